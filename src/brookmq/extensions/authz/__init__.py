"""Authorization (ACL), like EMQX's: rules (``rules``), the rules file format (``acl_file``), the
sources that hold rules (``sources``) and the ``client.authorize`` hook with its cache
(``authorization``)."""

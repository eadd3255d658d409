"""Extensions that plug into the core's hooks: $SYS topics now; auth, ACL, rules later."""

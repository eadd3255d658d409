"""The rate meter behind rule, action and source metrics: per-second figures from ticks."""

from brookmq.extensions.rates import Rate


def test_the_rate_is_ticks_per_second_over_whole_seconds() -> None:
    rate = Rate()
    for second in range(1000, 1010):  # 3 ticks a second for 10 s
        for _ in range(3):
            rate.tick(second + 0.5)
    assert rate.figures(1010.2) == (3.0, 3.0, 0.1)  # 30 ticks over the last 300 s
    assert rate.figures(1020.0)[0] == 0.0  # quiet for the last 5 s
    assert rate.figures(1020.0)[1] == 3.0  # the highest stays


def test_ticks_older_than_five_minutes_are_forgotten() -> None:
    rate = Rate()
    rate.tick(0.0)
    rate.tick(400.0)
    assert rate.figures(401.0)[2] == round(1 / 300, 2)


def test_reset_forgets_everything() -> None:
    rate = Rate()
    for _ in range(10):
        rate.tick(5.0)
    assert rate.figures(6.0) == (2.0, 2.0, 0.03)
    rate.reset()
    assert rate.figures(6.0) == (0.0, 0.0, 0.0)

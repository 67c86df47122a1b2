"""获取验证码's countdown: as long as the server said, one second per tick, then pressable."""

from client.models.password import ResendCountdown


def test_resend_countdown_follows_the_server_and_ends() -> None:
    countdown = ResendCountdown()
    assert countdown.ready and countdown.label == "获取验证码"
    countdown.start(2)
    assert not countdown.ready and countdown.label == "重新获取（2秒）"
    countdown.tick()
    assert countdown.label == "重新获取（1秒）"
    countdown.tick()
    countdown.tick()  # a late tick never goes below zero
    assert countdown.ready and countdown.seconds_left == 0
    countdown.start(-5)  # nothing to wait for
    assert countdown.ready

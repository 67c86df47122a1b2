from shared.password_policy import policy_violations


def test_strong_password_passes() -> None:
    assert policy_violations("Zhejiang#2026", username="hz_clerk") == []


def test_each_rule_is_reported() -> None:
    assert any("8位" in p for p in policy_violations("Ab1#", username="x"))
    assert any("三类" in p for p in policy_violations("abcdefgh12", username="x"))
    assert any("用户名" in p for p in policy_violations("Hz_Clerk#2026", username="hz_clerk"))
    assert any("常见" in p for p in policy_violations("Password123", username="x"))
    assert not any("常见" in p for p in policy_violations("Qiantang#River9", username="x"))
    assert any("常见" in p for p in policy_violations("P@ssw0rd", username="x"))
    assert any("常见" in p for p in policy_violations("admin@123", username="x"))

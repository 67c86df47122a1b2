"""The password policy, shared so the client can show it as the clerk types.

At least 8 characters, at least three of the four classes (upper, lower, digit, symbol),
not the username (in either direction or case), not a commonly used password.
"""

MIN_LENGTH = 8
MIN_CLASSES = 3

_COMMON = frozenset(
    [
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890",
        "111111",
        "000000",
        "666666",
        "888888",
        "123123",
        "654321",
        "password",
        "password1",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "qwerty",
        "qwerty123",
        "qwertyuiop",
        "1qaz2wsx",
        "1qaz@wsx",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "abc123",
        "abc12345",
        "abcd1234",
        "aa123456",
        "a123456",
        "a12345678",
        "admin",
        "admin123",
        "admin@123",
        "administrator",
        "root",
        "root123",
        "welcome",
        "welcome1",
        "letmein",
        "iloveyou",
        "woaini",
        "woaini1314",
        "5201314",
        "zxcvbnm",
        "asdfghjkl",
        "sgss",
        "sgss123",
        "sgss@123",
        "police",
        "police123",
        "gongan",
        "gongan123",
        "baoan",
        "baoan123",
        "changeme",
        "test123",
        "test@123",
        "p@ssw0rd123",
        "admin@2024",
        "admin@2025",
        "admin@2026",
        "abc@123",
        "abc@1234",
        "qwe123",
        "qwe@123",
        "qwe!@#123",
        "aa@123456",
        "a1b2c3d4",
        "abcABC123",
    ]
)

RULES_TEXT = (
    f"至少{MIN_LENGTH}位",
    "包含大写字母、小写字母、数字、符号中的至少三类",
    "不能与用户名相同或包含用户名",
    "不能是常见弱密码",
)


def character_classes(password: str) -> int:
    has_upper = any(c.isascii() and c.isupper() for c in password)
    has_lower = any(c.isascii() and c.islower() for c in password)
    has_digit = any(c.isdigit() for c in password)
    has_symbol = any(not c.isalnum() for c in password)
    return sum((has_upper, has_lower, has_digit, has_symbol))


def policy_violations(password: str, *, username: str = "") -> list[str]:
    """Every rule the password breaks, as Chinese sentences; empty when it passes."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码长度至少{MIN_LENGTH}位")
    if character_classes(password) < MIN_CLASSES:
        problems.append("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    lowered = password.lower()
    name = username.strip().lower()
    if len(name) >= 3 and (name in lowered or name[::-1] in lowered):
        problems.append("密码不能包含用户名")
    if lowered in _COMMON:
        problems.append("该密码过于常见，请换一个")
    return problems

from datetime import datetime

from pydantic import Field, model_validator

from shared.schemas.common import Input, Schema


class LoginRequest(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(Schema):
    access_token: str
    token_type: str = "bearer"
    must_change_password: bool
    expires_at: datetime
    idle_timeout_seconds: int


class ChangePasswordRequest(Input):
    """Either the old password or a verification code sent to the user's mobile proves identity."""

    old_password: str | None = Field(default=None, max_length=256)
    verification_code: str | None = Field(default=None, max_length=16)
    new_password: str = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def _one_proof(self) -> "ChangePasswordRequest":
        if not self.old_password and not self.verification_code:
            raise ValueError("请填写原密码或手机验证码")
        return self


class VerificationCodeSent(Schema):
    sent_to: str  # the mobile, masked
    expires_in_seconds: int
    # how long until another code may be asked for (the desk counts it down on its button)
    resend_after_seconds: int = 60

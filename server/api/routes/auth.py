from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from server.api.deps import (
    AuthContext,
    Authenticate,
    Authenticated,
    ContextDep,
    NowDep,
    SessionDep,
    client_ip,
    principal_of,
    read_only,
    turn_set_aside,
)
from server.api.openapi import raises
from server.api.responses import ModelRoute
from server.services import auth
from server.services.authz import principal_for
from server.services.notifications import deliver_pending
from server.services.user_views import ME_TOKEN_CHECK
from server.services.user_views import me as me_view
from shared.errors import ErrorCode
from shared.schemas.auth import (
    ChangePasswordRequest,
    LoginRequest,
    LoginResponse,
    VerificationCodeSent,
)
from shared.schemas.users import Me

router = APIRouter(tags=["auth"], route_class=ModelRoute)


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    openapi_extra=raises(
        ErrorCode.AUTH_INVALID_CREDENTIALS,
        ErrorCode.AUTH_ACCOUNT_DISABLED,
        ErrorCode.AUTH_ACCOUNT_LOCKED,
        ErrorCode.AUTH_TOO_MANY_ATTEMPTS,
    ),
)
def login(
    body: LoginRequest, request: Request, session: SessionDep, context: ContextDep, now: NowDep
) -> LoginResponse:
    result = auth.login(
        session,
        settings=context.settings,
        passwords=context.passwords,
        throttle=context.throttle,
        now=now,
        username=body.username,
        password=body.password,
        ip=client_ip(request),
        outside_turn=lambda: turn_set_aside(request),
    )
    return LoginResponse(
        access_token=result.access_token,
        must_change_password=result.must_change_password,
        expires_at=result.expires_at,
        idle_timeout_seconds=result.idle_timeout_seconds,
    )


@router.post("/auth/logout", status_code=204)
def logout(who: Authenticated, session: SessionDep, now: NowDep) -> Response:
    actor = principal_for(session, who.user, ip=who.ip).actor
    auth.logout(session, now=now, token=who.token, actor=actor)
    return Response(status_code=204)


@router.post(
    "/auth/verification-code",
    response_model=VerificationCodeSent,
    status_code=202,
    openapi_extra=raises(ErrorCode.VERIFICATION_CODE_TOO_SOON, ErrorCode.MOBILE_MISSING),
)
def send_code(
    who: Authenticated, session: SessionDep, context: ContextDep, now: NowDep
) -> VerificationCodeSent:
    actor = principal_for(session, who.user, ip=who.ip).actor
    sent_to, lifetime = auth.send_verification_code(
        session, settings=context.settings, now=now, user=who.user, actor=actor
    )
    deliver_pending(session, context.sender, now=now)
    return VerificationCodeSent(
        sent_to=sent_to,
        expires_in_seconds=lifetime,
        resend_after_seconds=context.settings.verification_code_interval_seconds,
    )


@router.post("/auth/change-password", status_code=204)
def change_password(
    body: ChangePasswordRequest,
    who: Authenticated,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> Response:
    actor = principal_for(session, who.user, ip=who.ip).actor
    auth.change_password(
        session,
        passwords=context.passwords,
        now=now,
        user=who.user,
        actor=actor,
        new_password=body.new_password,
        old_password=body.old_password,
        verification_code=body.verification_code,
    )
    return Response(status_code=204)


MeAuthenticated = Annotated[AuthContext, Depends(Authenticate(ME_TOKEN_CHECK))]
"""The token checked and the user's row read in one query (``user_views.ME_TOKEN_CHECK``)."""


@read_only(router, "/me", response_model=Me)
def me(who: MeAuthenticated, request: Request, session: SessionDep, now: NowDep) -> Me:
    return me_view(principal_of(request, session, who), who.check.also, now=now)

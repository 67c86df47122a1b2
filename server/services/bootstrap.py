"""First start: migrate, create the root organisation, create administrators."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.db.migrate import upgrade_to_head
from server.db.models import Org, Role, RolePermission, User, UserRole
from server.services import audit, builtin_roles
from server.services.approvals import publishing
from server.services.builtin_roles import ADMIN_ROLE_NAME
from server.services.certificates import keys as signing_keys
from server.services.certificates.keys import CertificateKeys
from server.services.errors import AppError
from server.services.exams import rules as exam_rules
from server.services.orgs import add_org
from server.services.passwords import Passwords, one_time_password
from server.services.roles import snapshot
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import DataScopeKind, OrgType
from shared.errors import ErrorCode
from shared.password_policy import policy_violations
from shared.permissions import all_permissions
from shared.regions import RegionLevel, region_table


def root_org_name(province_code: str) -> str:
    province = region_table()[province_code].name
    # Municipalities' departments are 市公安局; provinces and regions have a 公安厅.
    return f"{province}公安局" if province.endswith("市") else f"{province}公安厅"


def init_db(
    engine: Engine,
    session: Session,
    *,
    now: datetime,
    province: str,
    certificate_keys: CertificateKeys | None = None,
) -> Org:
    """Migrate to head; on an empty database create the root (the provincial department).

    Every run also publishes the shipped process definitions of business types that have none
    yet, so applications can be accepted right after installation or an upgrade that adds one,
    and, given ``certificate_keys``, makes the certificate signing key if there is none yet.
    """
    region = region_table().get(province)
    if region is None or region.level != RegionLevel.province:
        raise AppError(ErrorCode.ORG_REGION_INVALID, f"{province} 不是省级行政区划代码")
    upgrade_to_head(engine)
    root = session.scalar(select(Org).where(Org.parent_id.is_(None)))
    if root is not None:
        sync_admin_role(session, root, now=now)
        publishing.publish_defaults(session, now=now, actor=audit.CLI_ACTOR)
        exam_rules.seed_rules(session, now=now)
        _certificate_key(session, certificate_keys, now=now)
        session.commit()
        return root
    root = add_org(
        session,
        now=now,
        parent=None,
        name=root_org_name(province),
        type=OrgType.province_department,
        region_code=province,
    )
    audit.record(
        session,
        now=now,
        actor=audit.CLI_ACTOR,
        action=AuditAction.ORG_CREATE,
        entity_type=AuditEntity.ORG,
        entity_id=root.id,
        org_id=root.id,
        after={"name": root.name, "region_code": province},
    )
    sync_admin_role(session, root, now=now)
    publishing.publish_defaults(session, now=now, actor=audit.CLI_ACTOR)
    exam_rules.seed_rules(session, now=now)
    _certificate_key(session, certificate_keys, now=now)
    session.commit()
    return root


def _certificate_key(session: Session, keys: CertificateKeys | None, *, now: datetime) -> None:
    if keys is not None:
        signing_keys.ensure_key(session, keys, now=now, actor=audit.CLI_ACTOR)


def sync_admin_role(session: Session, root: Org, *, now: datetime) -> Role:
    """The built-in administrator role holds the whole catalogue, including modules added by
    later releases, and all data; it is found by its key and made whole on every ``init-db``
    (whatever an older release or a hand-edited database left of it)."""
    role = builtin_roles.admin_role(session) or _unkeyed_namesake(session, root)
    if role is not None and role.builtin_key is None:
        role.builtin_key = builtin_roles.ADMIN_KEY  # a database older than the key: adopt it
    if role is None:
        role = Role(
            org_id=root.id,
            name=ADMIN_ROLE_NAME,
            builtin_key=builtin_roles.ADMIN_KEY,
            description="拥有全部权限和全部数据范围",
            data_scope_kind=DataScopeKind.all.value,
            created_at=now,
            updated_at=now,
        )
        session.add(role)
    before = snapshot(role) if role.id is not None else None
    missing = sorted(all_permissions() - set(role.permissions))
    if missing:
        role.permission_rows.extend(RolePermission(permission=p) for p in missing)
    role.data_scope_kind = DataScopeKind.all.value
    role.scope_org_rows = []
    if role.name != ADMIN_ROLE_NAME and not _name_taken(session, role):
        role.name = ADMIN_ROLE_NAME
    old, new = audit.diff(before, snapshot(role)) if before is not None else ({}, {})
    if new:
        role.updated_at = now
    session.flush()
    if new:
        audit.record(
            session,
            now=now,
            actor=audit.CLI_ACTOR,
            action=AuditAction.ROLE_UPDATE,
            entity_type=AuditEntity.ROLE,
            entity_id=role.id,
            org_id=role.org_id,
            before=old,
            after=new,
        )
    return role


def _unkeyed_namesake(session: Session, root: Org) -> Role | None:
    """The root's 系统管理员 of a database whose role lost or never had the key (renamed before
    the upgrade that backfills it): made the built-in role rather than clashing with a new one."""
    return session.scalar(
        select(Role).where(
            Role.org_id == root.id, Role.name == ADMIN_ROLE_NAME, Role.builtin_key.is_(None)
        )
    )


def _name_taken(session: Session, role: Role) -> bool:
    clash = select(Role.id).where(
        Role.org_id == role.org_id, Role.name == ADMIN_ROLE_NAME, Role.id != role.id
    )
    return session.scalar(clash) is not None


@dataclass(frozen=True)
class CreatedAdmin:
    user: User
    password: str
    generated: bool


def create_admin(
    session: Session,
    *,
    now: datetime,
    passwords: Passwords,
    username: str,
    password: str | None = None,
    name: str = "系统管理员",
) -> CreatedAdmin:
    root = session.scalar(select(Org).where(Org.parent_id.is_(None)))
    if root is None:
        raise AppError(ErrorCode.NOT_FOUND, "数据库尚未初始化，请先运行 sgss-server init-db")
    username = username.strip().lower()
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AppError(ErrorCode.USER_NAME_TAKEN, details={"username": username})
    if password is not None:
        problems = policy_violations(password, username=username)
        if problems:
            raise AppError(ErrorCode.PASSWORD_WEAK, "密码不符合规则：" + "；".join(problems))
    generated = password is None
    secret = password or one_time_password()
    role = sync_admin_role(session, root, now=now)
    user = User(
        username=username,
        name=name,
        org_id=root.id,
        is_police=True,
        password_hash=passwords.hash(secret),
        must_change_password=generated,
        created_at=now,
        updated_at=now,
    )
    user.role_rows = [UserRole(role=role)]
    session.add(user)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=audit.CLI_ACTOR,
        action=AuditAction.USER_CREATE,
        entity_type=AuditEntity.USER,
        entity_id=user.id,
        org_id=root.id,
        after={"username": username, "role": ADMIN_ROLE_NAME},
    )
    session.commit()
    return CreatedAdmin(user, secret, generated)

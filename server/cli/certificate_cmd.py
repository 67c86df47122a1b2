"""``sgss-server certificate …``: signing keys, the status list, and offline verification."""

from pathlib import Path
from typing import Annotated

import typer

from server.cli.common import fail, open_env, utc_now
from server.services import audit
from server.services.certificates import keys as signing_keys
from server.services.certificates import verification
from server.services.certificates.keys import CertificateKeys
from server.services.errors import AppError
from shared.certificate_payload import Claims
from shared.certificate_status_list import StatusListError, StatusResult
from shared.certificate_status_list import read as read_status_list
from shared.certificate_verification import Verification, load_public_keys, verify
from shared.china_time import china_day

app = typer.Typer(help="保安员证：签名密钥、状态列表、离线核验", no_args_is_help=True)
keys_app = typer.Typer(help="证书签名密钥", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
def keys_init() -> None:
    """生成证书签名密钥（已有当前密钥时不重复生成）。"""
    env = open_env()
    with env.session() as session:
        try:
            row, made = signing_keys.ensure_key(
                session,
                CertificateKeys(env.settings.data_dir),
                now=utc_now(),
                actor=audit.CLI_ACTOR,
            )
        except AppError as err:
            fail(err.message, err.details)
            return
        session.commit()
    state = "已生成" if made else "已存在"
    typer.echo(f"证书签名密钥{state}：{row.key_id}（{row.algorithm}）")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """轮换证书签名密钥：当前密钥停用（其公钥仍用于核验已签发的证书），启用新密钥。"""
    env = open_env()
    with env.session() as session:
        row = signing_keys.rotate(
            session, CertificateKeys(env.settings.data_dir), now=utc_now(), actor=audit.CLI_ACTOR
        )
        session.commit()
    typer.echo(f"已启用新的证书签名密钥：{row.key_id}")


@keys_app.command("export-public")
def keys_export(file: Path) -> None:
    """把全部证书签名公钥（含有效期）导出为核验用的公钥文件。"""
    env = open_env()
    with env.session() as session:
        text = verification.public_key_file(session)
    file.write_text(text, encoding="utf-8")
    typer.echo(f"已导出公钥文件：{file}")


@app.command("status-list")
def status_list(file: Path) -> None:
    """导出已签名的证书状态列表（供外网门户和离线核验）。"""
    env = open_env()
    with env.session() as session:
        try:
            text = verification.status_list(
                session,
                CertificateKeys(env.settings.data_dir),
                now=utc_now(),
                ttl_seconds=env.settings.certificate_status_list_ttl_seconds,
            )
        except AppError as err:
            fail(err.message, err.details)
            return
    file.write_text(text, encoding="utf-8")
    typer.echo(f"已导出状态列表：{file}")


@app.command("verify")
def verify_cmd(
    text: Annotated[str, typer.Argument(help="二维码内容")],
    public_keys: Annotated[Path, typer.Option(help="公钥文件（keys export-public 导出）")],
    status_list: Annotated[
        Path | None, typer.Option(help="状态列表文件（status-list 导出）；不给则状态未知")
    ] = None,
) -> None:
    """离线核验证书二维码：分别报告完整性、发证时密钥有效性、证书状态和有效期。"""
    try:
        keys = load_public_keys(public_keys.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        fail(f"无法读取公钥文件：{err}")
        return
    now = utc_now()
    source = None
    if status_list is not None:
        try:
            listing = read_status_list(status_list.read_text(encoding="utf-8"), keys)
        except (OSError, StatusListError) as err:
            fail(f"无法使用状态列表：{err}")
            return

        def source(claims: Claims) -> tuple[StatusResult, str]:
            state = listing.status_of(claims.status_index, now)
            if state == StatusResult.unknown and not listing.is_fresh(now):
                return state, f"状态列表已于 {listing.expires_at:%Y-%m-%d %H:%M} (UTC) 过期"
            return state, ""

    result = verify(text, keys, today=china_day(now), status=source)
    _print(result)
    if not result.valid:
        raise typer.Exit(1)


def _print(result: Verification) -> None:
    claims = result.claims
    if claims is not None:
        typer.echo(f"证书编号：{claims.number}")
        typer.echo(f"持证人：{claims.name}（{claims.id_masked}）")
        typer.echo(f"发证日期：{claims.issued_on:%Y-%m-%d}")
    typer.echo(f"完整性：{result.integrity.label}")
    typer.echo(f"签名密钥：{result.key.label}")
    note = f"（{result.status_note}）" if result.status_note else ""
    typer.echo(f"证书状态：{result.status.label}{note}")
    typer.echo(f"有效期：{result.expiry.label}")
    typer.echo(f"结论：{result.summary}")

"""Reading process definitions from YAML, with every problem named by file and line.

Files are read with ``yaml.compose`` rather than ``yaml.safe_load`` so each value keeps the line
it came from: whoever fixes a definition needs "第12行", not just "invalid". All problems of a
file are collected before failing, so one round of editing can fix them all. The format is
documented in ``resources/workflows/README.md``.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple, TypeVar

import yaml

from server.services.approvals.definition import ProcessDef, StepDef
from server.services.approvals.definition_flow import check_flow
from shared.approvals import AuthorityLevel, Gate
from shared.enums import ApprovalRole, BusinessType, LabelledEnum

STEP_KEY = re.compile(r"[a-z][a-z0-9_]*")
MAX_TIME_LIMIT_DAYS = 60
MAX_KEY_LENGTH = 40  # approval_tasks.step_key
MAX_STEP_NAME_LENGTH = 50  # approval_tasks.step_name
MAX_PROCESS_NAME_LENGTH = 100  # workflow_definitions.name

TOP_REQUIRED = ("business_type", "name", "steps")
STEP_REQUIRED = ("key", "name", "level", "role", "time_limit_days")
STEP_OPTIONAL = ("gates", "final", "next")

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_TRUE_WORDS = frozenset({"true", "yes", "on"})
# libyaml's parser where PyYAML was built with it (its wheels are): about ten times faster than
# the pure-Python one, and every ``init-db`` reads all the shipped files.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

E = TypeVar("E", bound=LabelledEnum)


class Problem(NamedTuple):
    """One thing wrong in a file; ``line`` is 1-based, None when it concerns the whole file."""

    line: int | None
    message: str

    def describe(self, source_name: str) -> str:
        where = source_name if self.line is None else f"{source_name} 第{self.line}行"
        return f"{where}：{self.message}"


class DefinitionError(Exception):
    """A definition file that cannot be used; ``problems`` lists all of them, earliest first."""

    def __init__(self, source_name: str, problems: Iterable[Problem]) -> None:
        self.source_name = source_name
        self.problems: list[Problem] = sorted(set(problems), key=_problem_order)
        if not self.problems:
            raise ValueError("DefinitionError needs at least one problem")
        super().__init__(self.problems[0].describe(source_name))

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def message(self) -> str:
        return self.problems[0].message

    def __str__(self) -> str:
        return self.problems[0].describe(self.source_name)

    def lines(self) -> list[str]:
        return [p.describe(self.source_name) for p in self.problems]


def _problem_order(problem: Problem) -> tuple[int, str]:
    return (problem.line or 0, problem.message)


def role_level(role: ApprovalRole) -> AuthorityLevel:
    """The level a role belongs to, read from its name (``county_clerk`` → county)."""
    return AuthorityLevel(role.value.split("_", 1)[0])


def default_definition_paths() -> list[Path]:
    """The shipped definitions, ``resources/workflows/<business_type>.yaml``."""
    folder = resources.files("resources").joinpath("workflows")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def load_definition(path: Path | str) -> ProcessDef:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DefinitionError(path.name, [Problem(None, "文件不是 UTF-8 编码")]) from err
    return parse_definition(text, path.name)


def parse_definition(text: str, source_name: str) -> ProcessDef:
    """Parse and validate; raise ``DefinitionError`` naming every problem found."""
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        raise DefinitionError(source_name, [Problem(line, _syntax_message(err))]) from err
    except yaml.YAMLError as err:
        raise DefinitionError(source_name, [Problem(None, f"YAML 格式错误：{err}")]) from err
    if root is None:
        raise DefinitionError(source_name, [Problem(None, "文件为空")])
    reader = _Reader()
    definition = reader.process(root)
    if reader.problems or definition is None:
        raise DefinitionError(source_name, reader.problems or [Problem(None, "无法解析")])
    return definition


def _compose(text: str) -> yaml.Node | None:
    """The document's node tree. A file libyaml refuses is read again by the pure-Python parser,
    whose refusal names what it found (``found '-'``) where libyaml's does not."""
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)


def _syntax_message(err: yaml.MarkedYAMLError) -> str:
    detail = err.problem or err.context or "无法解析"
    return f"YAML 语法错误（{detail}）"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


@dataclass
class _Step:
    """What could be read of one step; None fields were missing or invalid."""

    line: int
    key: str | None = None
    key_line: int = 0
    name: str | None = None
    level: AuthorityLevel | None = None
    role: ApprovalRole | None = None
    role_line: int = 0
    time_limit_days: int | None = None
    gates: tuple[Gate, ...] = ()
    final: bool = False
    next: str | None = None
    next_line: int = 0

    def build(self) -> StepDef | None:
        if (
            self.key is None
            or self.name is None
            or self.level is None
            or self.role is None
            or self.time_limit_days is None
        ):
            return None
        return StepDef(
            key=self.key,
            name=self.name,
            level=self.level,
            role=self.role,
            time_limit_days=self.time_limit_days,
            gates=self.gates,
            final=self.final,
            next=self.next,
        )


Entries = dict[str, tuple[yaml.Node, yaml.Node]]


class _Reader:
    """Walks the node tree once, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line, message))

    def process(self, root: yaml.Node) -> ProcessDef | None:
        entries = self.mapping(
            root, "文件内容必须是映射（键: 值），包含 business_type、name、steps"
        )
        if entries is None:
            return None
        self.check_keys(entries, root, TOP_REQUIRED, (), "")
        business_type = None
        if "business_type" in entries:
            business_type = self.choice(entries["business_type"][1], BusinessType, "业务类型")
        name = None
        if "name" in entries:
            name = self.text(entries["name"][1], "name", MAX_PROCESS_NAME_LENGTH)
        steps: list[_Step] = []
        if "steps" in entries:
            steps = self.steps(entries["steps"][0], entries["steps"][1])
        if steps:
            for line, message in check_flow(steps, _line(entries["steps"][0])):
                self.add(line, message)
        built = [s.build() for s in steps]
        if business_type is None or name is None or not built or None in built:
            return None
        return ProcessDef(
            business_type=business_type,
            name=name,
            steps=tuple(s for s in built if s is not None),
        )

    def steps(self, key_node: yaml.Node, node: yaml.Node) -> list[_Step]:
        if not isinstance(node, yaml.SequenceNode):
            if isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG:
                self.add(_line(key_node), "steps 不能为空：至少要有一个审批环节")
            else:
                self.add(_line(node), "steps 必须是环节列表（每个环节以 - 开头）")
            return []
        if not node.value:
            self.add(_line(key_node), "steps 不能为空：至少要有一个审批环节")
            return []
        return [self.step(index, item) for index, item in enumerate(node.value, start=1)]

    def step(self, index: int, node: yaml.Node) -> _Step:
        step = _Step(line=_line(node))
        entries = self.mapping(node, f"第{index}个环节必须是映射（键: 值）")
        if entries is None:
            return step
        where = f"第{index}个环节"
        if "key" in entries:
            step.key_line = _line(entries["key"][1])
            step.key = self.step_key(entries["key"][1])
            if step.key is not None:
                where = f'环节 "{step.key}" '
        self.check_keys(entries, node, STEP_REQUIRED, STEP_OPTIONAL, where)
        if "name" in entries:
            step.name = self.text(entries["name"][1], "name", MAX_STEP_NAME_LENGTH)
        if "level" in entries:
            step.level = self.choice(entries["level"][1], AuthorityLevel, "审批层级")
        if "role" in entries:
            step.role_line = _line(entries["role"][1])
            step.role = self.choice(entries["role"][1], ApprovalRole, "审批角色")
        if "time_limit_days" in entries:
            step.time_limit_days = self.time_limit(entries["time_limit_days"][1])
        if "gates" in entries:
            step.gates = self.gates(entries["gates"][1])
        if "final" in entries:
            step.final = self.flag(entries["final"][1], "final")
        if "next" in entries:
            step.next_line = _line(entries["next"][1])
            step.next = self.next_key(entries["next"][1])
        if step.level is not None and step.role is not None:
            owner = role_level(step.role)
            if owner != step.level:
                self.add(
                    step.role_line,
                    f'审批角色 "{step.role}"（{step.role.label}）属于{owner.label}，'
                    f"不能用于{step.level.label}环节",
                )
        return step

    def mapping(self, node: yaml.Node, wrong_shape: str) -> Entries | None:
        if not isinstance(node, yaml.MappingNode):
            self.add(_line(node), wrong_shape)
            return None
        entries: Entries = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                self.add(_line(key_node), "键必须是文字")
                continue
            key = str(key_node.value)
            if key in entries:
                first = _line(entries[key][0])
                self.add(_line(key_node), f'键 "{key}" 重复（第{first}行已出现）')
                continue
            entries[key] = (key_node, value_node)
        return entries

    def check_keys(
        self,
        entries: Entries,
        node: yaml.Node,
        required: Sequence[str],
        optional: Sequence[str],
        where: str,
    ) -> None:
        allowed = (*required, *optional)
        for key, (key_node, _) in entries.items():
            if key not in allowed:
                self.add(_line(key_node), f'{where}未知的键 "{key}"（可用：{"、".join(allowed)}）')
        for key in required:
            if key not in entries:
                self.add(_line(node), f'{where}缺少必填项 "{key}"')

    def scalar(self, node: yaml.Node, field: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.add(_line(node), f"{field} 必须是单个值")
            return None
        return str(node.value)

    def text(self, node: yaml.Node, field: str, max_length: int) -> str | None:
        value = self.scalar(node, field)
        if value is None:
            return None
        value = value.strip()
        if node.tag != _STR_TAG or not value:
            self.add(_line(node), f"{field} 必须是非空的文字")
            return None
        if len(value) > max_length:
            self.add(_line(node), f"{field} 不能超过 {max_length} 个字")
            return None
        return value

    def choice(self, node: yaml.Node, enum: type[E], what: str) -> E | None:
        value = self.scalar(node, what)
        if value is None:
            return None
        try:
            return enum(value)
        except ValueError:
            self.add(_line(node), f'未知的{what} "{value}"')
            return None

    def step_key(self, node: yaml.Node) -> str | None:
        value = self.scalar(node, "key")
        if value is None:
            return None
        if not STEP_KEY.fullmatch(value):
            self.add(
                _line(node),
                f'环节键 "{value}" 格式不正确：须以小写英文字母开头，只含小写字母、数字和下划线',
            )
        elif len(value) > MAX_KEY_LENGTH:
            self.add(_line(node), f'环节键 "{value}" 不能超过 {MAX_KEY_LENGTH} 个字符')
        return value

    def next_key(self, node: yaml.Node) -> str | None:
        value = self.scalar(node, "next")
        if value is not None and node.tag != _STR_TAG:
            self.add(_line(node), "next 必须是环节键")
            return None
        return value

    def time_limit(self, node: yaml.Node) -> int | None:
        value = self.scalar(node, "time_limit_days")
        if value is None:
            return None
        days = int(value) if node.tag == _INT_TAG and value.isdigit() else None
        if days is None or not 1 <= days <= MAX_TIME_LIMIT_DAYS:
            self.add(
                _line(node),
                f'办理时限 "{value}" 无效：必须是 1 到 {MAX_TIME_LIMIT_DAYS} 之间的整数（工作日）',
            )
            return None
        return days

    def flag(self, node: yaml.Node, field: str) -> bool:
        value = self.scalar(node, field)
        if value is None:
            return False
        if node.tag != _BOOL_TAG:
            self.add(_line(node), f"{field} 必须是 true 或 false")
            return False
        return value.lower() in _TRUE_WORDS

    def gates(self, node: yaml.Node) -> tuple[Gate, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.add(_line(node), "gates 必须是列表，例如 [screening]")
            return ()
        found: list[Gate] = []
        for item in node.value:
            gate = self.choice(item, Gate, "审批条件")
            if gate is None:
                continue
            if gate in found:
                self.add(_line(item), f'审批条件 "{gate}" 重复')
                continue
            found.append(gate)
        return tuple(found)

"""Checks on the shape of a process: unique keys, valid links, one path to a final step.

A step is followed by the step named in ``next``, or else by the step listed after it; a final
step is followed by nothing. So from the first step there is exactly one path, and it must end
on a final step: falling off the end of the list or running in a circle would leave an
application with no way to finish, and a step off that path would never be reached.
"""

from collections.abc import Sequence
from typing import Protocol


class FlowStep(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def key(self) -> str | None: ...
    @property
    def key_line(self) -> int: ...
    @property
    def final(self) -> bool: ...
    @property
    def next(self) -> str | None: ...
    @property
    def next_line(self) -> int: ...


def _label(step: FlowStep, index: int) -> str:
    return f'环节 "{step.key}" ' if step.key is not None else f"第{index + 1}个环节"


def _index_by_key(steps: Sequence[FlowStep], problems: list[tuple[int, str]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, step in enumerate(steps):
        if step.key is None:
            continue
        if step.key in found:
            first = steps[found[step.key]].key_line
            problems.append((step.key_line, f'环节键 "{step.key}" 重复（第{first}行已使用）'))
            continue
        found[step.key] = index
    return found


def _check_links(
    steps: Sequence[FlowStep], by_key: dict[str, int], problems: list[tuple[int, str]]
) -> bool:
    """Report bad ``next`` values; True when every link can be followed."""
    followable = True
    for index, step in enumerate(steps):
        if step.next is None:
            continue
        if step.final:
            problems.append(
                (step.next_line, f"{_label(step, index)}是最终环节（final: true），不能再指定 next")
            )
        if step.next not in by_key:
            problems.append((step.next_line, f'next 指向不存在的环节 "{step.next}"'))
            followable = False
    return followable


def _walk(
    steps: Sequence[FlowStep],
    by_key: dict[str, int],
    problems: list[tuple[int, str]],
    *,
    any_final: bool,
) -> list[int]:
    """The indexes on the path from the first step, reporting how it fails to end."""
    path: list[int] = []
    index = 0
    while True:
        path.append(index)
        step = steps[index]
        if step.final:
            return path
        if step.next is not None:
            index = by_key[step.next]
            if index in path:
                problems.append(
                    (
                        step.next_line,
                        f'{_label(step, path[-1])}的 next 指回环节 "{step.next}"，'
                        "流程形成循环，永远到不了最终环节",
                    )
                )
                return path
        elif index + 1 < len(steps):
            index += 1
        else:
            if any_final:
                problems.append(
                    (
                        step.line,
                        f"从第一个环节走到{_label(step, index).rstrip()}后流程就结束了，"
                        "但它不是最终环节：请标明 final: true 或用 next 指定下一个环节",
                    )
                )
            return path


def check_flow(steps: Sequence[FlowStep], steps_line: int) -> list[tuple[int, str]]:
    """Every problem with the links between ``steps`` as (line, message); empty when sound."""
    problems: list[tuple[int, str]] = []
    by_key = _index_by_key(steps, problems)
    followable = _check_links(steps, by_key, problems)
    any_final = any(step.final for step in steps)
    if not any_final:
        problems.append((steps_line, "没有最终环节：审批通过的最后一个环节须标明 final: true"))
    if not followable:
        return problems
    path = _walk(steps, by_key, problems, any_final=any_final)
    for index, step in enumerate(steps):
        if index not in path:
            problems.append((step.line, f"{_label(step, index)}从第一个环节出发无法到达"))
    return problems

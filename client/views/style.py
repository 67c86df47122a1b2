"""The desk's look in one place, beside ``resources/qss/sgss.qss``: the colours a stylesheet
cannot reach (item foregrounds in tables and trees, the HTML of the applicant's view) and the
sizes windows open at. Views name these; they hold no colour or size literals of their own
(``tests/client/test_view_style.py``). A widget's look that depends on its state is a dynamic
property styled in the QSS (``set_state``).

Sizes fit the smallest screen the desk supports, 1366 × 768 less the Windows taskbar and a title
bar (about 1350 × 689 for the window's inside); a window may be enlarged, never needs to be."""

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

# -- colours (the QSS uses the same values) ----------------------------------------------------
BRAND = "#0b3d75"  # police blue: titles, group headings
DANGER = "#c62828"  # overdue, pending at someone, a refusal, a hit
WARNING = "#e65100"  # a check that could not run
SUCCESS = "#2e7d32"  # done, enrolled
MUTED = "#9e9e9e"  # not reached, not run, read-only
TEXT = "#000000"
OVERDUE = DANGER  # a list's rows past their time limit (the inbox)


def colour(name: str) -> QColor:
    """A QColor for item models and painters (``colour(DANGER)``)."""
    return QColor(name)


# -- sizes, in pixels at 100 % scaling ----------------------------------------------------------
MAIN_WINDOW = (1280, 680)
MAIN_SPLIT = (240, 1040)  # menu | page
REVIEW_DIALOG = (1180, 660)
REJECT_DIALOG = (560, 540)
PICK_PERSON_DIALOG = (460, 380)  # 指派, 收回/改派
ROLE_DIALOG = (820, 600)
USER_DIALOG = (900, 560)
DEVICE_DIALOG = (640, 600)
ENROL_DIALOG = (640, 340)
SCORE_PROBLEMS_DIALOG = (760, 460)  # every problem of a refused score file
EXAM_COMBO_WIDTH = 280  # 录入成绩's exam selector: a whole exam name
SIGN_IN_WINDOW = (460, 300)
PERSONS_TABLE_HEIGHT = 150  # the review's 涉及人员: four rows before its page scrolls
OPINION_HEIGHT = 70  # the opinion box under the review's tabs: three lines
ENROL_STEPS_WIDTH = 200
ENROL_PROMPT_HEIGHT = 90
PORT_COMBO_WIDTH = 360
DEVICE_REPORT_HEIGHT = 150
BUSY_BAR_WIDTH = 160
ORG_TREE_NAME_WIDTH = 260
ORG_SPLIT = (420, 600)  # tree | form
ORG_LIST_SPLIT = (210, 990)  # a county bureau's name fits; the list gets the rest
MAX_COLUMN_WIDTH = 320  # a list column fitted to its content stops here (tooltip shows all)
SHRINK_STEP = 16  # columns give way to fit the view this much at a time, widest first
FILTER_COMBO_WIDTH = 260
SEARCH_FIELD_WIDTH = 220
PAGE_FIELD_WIDTH = 64  # 跳至第 [ N ] 页
CERTIFICATE_DETAIL_DIALOG = (860, 620)  # particulars above, the history table below
CERTIFICATE_ACTION_DIALOG = (560, 400)  # 补发, 更正换发, 吊销, 注销
PRINT_DIALOG = (520, 360)  # 打印 / 补打: where to, and why (补打)
PRINT_PROGRESS_DIALOG = (460, 170)
REASON_BOX_HEIGHT = 70  # a reason or a legal basis: three lines


def set_state(widget: QWidget, name: str, value: object) -> None:
    """Set the dynamic property the QSS styles (``#statusLabel[error="true"]``) and re-apply
    the stylesheet to ``widget`` (Qt does not re-polish on property changes)."""
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


# -- the 保安员证 preview (client/views/card_preview.py) ---------------------------------------
CARD_PREVIEW_WIDTH = 540  # one side, px; both sides side by side fit a 1366-px screen
CARD_PREVIEW_GAP = 16

# -- 保安员资格许可 (client/views/exams/) --------------------------------------------------------
CHIPS_PER_ROW = 6  # 考试报名's status chips: two rows within the page at 1366 px
EXAM_DIALOG = (620, 400)  # 新增考试 / 修改
PICKER_DIALOG = (1180, 640)  # 添加人员
EXAM_SPLIT = (300, 340)  # 考试安排: the exams over the chosen exam's candidates
REASON_FIELD_HEIGHT = 70

# -- 内外网数据同步 (client/views/system/sync.py) ------------------------------------------------
SYNC_BUNDLE_DIALOG = (640, 440)
SYNC_KEY_DIALOG = (560, 180)

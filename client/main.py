import sys


def main() -> None:
    print("sgss-desk：桌面客户端尚未构建（见客户端外壳任务）。服务器请用 sgss-server。")
    sys.exit(2)

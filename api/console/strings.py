"""The console's own words (界面文字), Chinese and English: what the domain's labels (api.labels, ledger/domain/
labels.toml) do not already name. A template asks ``t("key")``; a key missing here is a bug (tests check every
template's keys)."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
HTML_LANG: dict[Lang, str] = {"zh": "zh-CN", "en": "en"}

# key -> (中文, English)
STRINGS: dict[str, tuple[str, str]] = {
    "app": ("绩效账本", "Jixiao Ledger"),
    "console": ("管理台", "Console"),
    "skip": ("跳到正文", "Skip to content"),
    "nav": ("主导航", "Main navigation"),
    "home": ("首页", "Home"),
    "tables": ("数据表", "Tables"),
    "public": ("公开信息", "Public"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "language": ("语言", "Language"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "token": ("访问令牌", "Access token"),
    "token_hint": (
        "粘贴管理员签发的访问令牌（以 jxl_ 开头）。令牌只保存在本浏览器的 HttpOnly Cookie 中，退出即删除。",
        "Paste the access token an administrator issued you (it starts with jxl_). It is kept only in this "
        "browser's HttpOnly cookie and deleted when you sign out.",
    ),
    "token_refused": ("令牌无效或已被吊销", "The token is not valid, or was revoked"),
    "token_expired": ("登录已失效，请重新登录", "Your sign-in is no longer valid: please sign in again"),
    "login_needed": ("请先登录", "Please sign in first"),
    "cross_site": ("拒绝跨站提交", "Cross-site form submission refused"),
    "error": ("出错了", "Something went wrong"),
    "status": ("状态码", "Status"),
    "code": ("错误代码", "Code"),
    "detail": ("说明", "Detail"),
    "back_home": ("返回首页", "Back to the home page"),
    "page_not_found": ("页面不存在", "No such page"),
    "internal": ("服务内部错误，请联系管理员", "Internal error: please tell the administrator"),
    "role": ("角色", "Role"),
    "organisation": ("单位", "Organisation"),
    "none": ("无", "None"),
    "footer": (
        "每项决定都是不可篡改的事件，经哈希链与默克尔树签名存证。",
        "Every decision is an immutable event, hash-chained and Merkle-logged under signed checkpoints.",
    ),
}


def translate(lang: Lang, key: str) -> str:
    """The console's word for ``key`` in ``lang``."""
    zh, en = STRINGS[key]
    return zh if lang == "zh" else en

"""Request validation errors in Chinese: pydantic's messages are English, and every message a user
of the web UI or the portal sees should say in their language what was wrong and what is valid."""

from __future__ import annotations

from typing import Any

# pydantic error type -> the message, formatted with the error's ctx
_MESSAGES: dict[str, str] = {
    "missing": "缺少必填项",
    "extra_forbidden": "不支持的字段",
    "json_invalid": "不是合法的 JSON",
    "string_type": "应为文本",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符，请删减后再提交",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "date_parsing": "不是合法的日期，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "不是合法的日期，应为 YYYY-MM-DD",
    "date_type": "不是合法的日期，应为 YYYY-MM-DD",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
}


def message_zh(error: dict[str, Any]) -> str:
    """One pydantic error as a Chinese phrase; our own validators' messages (value_error) are kept."""
    template = _MESSAGES.get(str(error.get("type")))
    if template is None:
        text = str(error.get("msg", "取值无效"))
        return text.removeprefix("Value error, ")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template.split("{")[0].rstrip("：: ") or "取值无效"

"""The server-rendered API reference (`service.api_docs`): every route and parameter in words, nothing unescaped."""

from intentdesk.service.api_docs import api_docs_page, type_of


def test_parameters_are_described_in_words():
    assert type_of({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}) == \
        "a whole number, at least 1, optional"
    assert type_of({"type": "number", "minimum": 0, "maximum": 1}) == "a number, at least 0, at most 1"
    assert type_of({"type": "string", "enum": ["fp32", "int8"]}) == 'text, one of "fp32", "int8"'
    assert type_of({}) == "any"


def test_what_the_schema_says_is_escaped():
    schema = {"info": {"title": "<b>x</b>", "summary": "a & b"}, "paths": {"/c<script>": {"post": {
        "summary": "<img src=x onerror=alert(1)>", "parameters": [{"name": "q\"", "in": "query",
                                                                   "schema": {"type": "string"}}],
        "responses": {"200": {"description": "<i>ok</i>"}}}}}}
    page = api_docs_page(schema)
    assert "<script>" not in page and "<img" not in page and "<i>ok" not in page and "<b>x</b>" not in page
    assert "POST /c&lt;script&gt;" in page and "a &amp; b" in page and "q&quot;" in page

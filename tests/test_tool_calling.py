"""Tool calling on the simulated server through the official openai client: the plan rule of
helpers/llm_server/tools.py, whole answers and streams, sync and async, a batch, and the 400s."""

import asyncio
import io
import json
import re
import time

import jsonschema
import openai
import pytest
from simulator_support import simulator_fixtures

from helpers.llm_server.text import answer, count_tokens
from helpers.llm_server.tool_checks import FunctionTool
from helpers.llm_server.tools import Call, arguments_from, default_arguments, plan

server, fresh, DEFAULTS = simulator_fixtures(preset="instant", time_scale=0.02)
MODEL = "instant"
SEARCH = {"type": "function", "function": {
    "name": "search_docs", "description": "Search the course's documentation.",
    "parameters": {"type": "object", "additionalProperties": False,
                   "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 10}, "query": {"type": "string"}},
                   "required": ["query"]}}}
CHECK = {"type": "function", "function": {
    "name": "check_facts", "description": "Score a text for factual accuracy.",
    "parameters": {"type": "object", "additionalProperties": False, "properties": {
        "effort": {"type": "integer", "minimum": 2},
        "mode": {"type": "string", "enum": ["quick", "thorough"]},
        "text": {"type": "string"},
        "verbose": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "where": {"type": "object", "properties": {"page": {"type": "integer", "default": 3}}, "required": ["page"]},
        "note": {"type": "string"}},
        "required": ["effort", "mode", "text", "verbose", "tags", "where"]}}}
TOOLS = [SEARCH, CHECK]
SCHEMAS = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
QUESTION = ("Use search_docs(rate limits) and search_docs(\"retries\"), then check_facts(the draft) "
            "before you explain concurrency.")
CALL_ID = re.compile(r"^call_[A-Za-z0-9]{24}$")


def ask(question: str = QUESTION) -> list[dict]:
    return [{"role": "system", "content": "You are a careful assistant."}, {"role": "user", "content": question}]


def calls_of(message) -> list[tuple[str, dict]]:
    """(name, arguments) of each tool call, every arguments text checked against its tool's schema."""
    found = []
    for call in message.tool_calls or []:
        arguments = json.loads(call.function.arguments)
        jsonschema.validate(arguments, SCHEMAS[call.function.name])
        found.append((call.function.name, arguments))
    return found


def text_of(message) -> str:
    """A message's text, whether a dict of ours or the SDK's message object."""
    content = message["content"] if isinstance(message, dict) else message.content
    return content or ""


def tool_message(call) -> dict:
    return {"role": "tool", "tool_call_id": call.id, "content": f"{call.function.name} found: the answer {call.id[-4:]}."}


def agent(client: openai.OpenAI, messages: list, **options) -> list:
    """Run the loop until a text answer: every reply, in order; `messages` grows with the conversation."""
    replies = []
    while True:
        replies.append(client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, **options))
        message = replies[-1].choices[0].message
        if replies[-1].choices[0].finish_reason != "tool_calls":
            return replies
        messages.append(message)  # the SDK's own message object, as learners append it
        messages.extend(tool_message(call) for call in message.tool_calls)


# --- the plan rule ----------------------------------------------------------------------------

def test_default_arguments_follow_the_schema_and_validate() -> None:
    arguments = default_arguments(SCHEMAS["check_facts"])
    assert arguments == {"effort": 2, "mode": "quick", "text": "text", "verbose": True, "tags": [], "where": {"page": 3}}
    jsonschema.validate(arguments, SCHEMAS["check_facts"])
    assert default_arguments(SCHEMAS["search_docs"]) == {"query": "query"}  # the optional limit is left out


def test_text_in_parentheses_fills_the_first_string_property_required_ones_first() -> None:
    schema = {"type": "object", "properties": {"note": {"type": "string"}, "count": {"type": "integer"},
                                               "topic": {"type": "string"}}, "required": ["count", "topic"]}
    assert arguments_from(" 'rate limits' ", schema) == {"count": 1, "topic": "rate limits"}
    assert arguments_from('{"count": 4, "note": "x"}', schema) == {"count": 4, "topic": "topic", "note": "x"}
    assert arguments_from("", schema) == {"count": 1, "topic": "topic"}
    checked = arguments_from("the draft", SCHEMAS["check_facts"])  # "mode" comes first, but takes only its enum
    assert (checked["mode"], checked["text"]) == ("quick", "the draft")
    jsonschema.validate(checked, SCHEMAS["check_facts"])
    numbers = {"type": "object", "properties": {"n": {"type": "number", "minimum": 0.5}}, "required": ["n"]}
    assert arguments_from("some text", numbers) == {"n": 0.5}  # no string property: the text is not used


def test_parentheses_inside_a_calls_text_are_part_of_it() -> None:
    tools = [FunctionTool(tool["function"]["name"], tool["function"]["parameters"]) for tool in TOOLS]
    question = "Use search_docs(rate limits (RPM) and f(x)), then check_facts(draft)."
    assert plan(question, tools) == [[Call("search_docs", {"query": "rate limits (RPM) and f(x)"})],
                                     [Call("check_facts", default_arguments(SCHEMAS["check_facts"]) | {"text": "draft"})]]
    assert plan("Use search_docs(rate limits (RPM) now.", tools) == []  # never closed: not a call


def test_the_first_turn_makes_the_first_rounds_calls_with_valid_arguments(fresh) -> None:
    reply = fresh.client().chat.completions.create(model=MODEL, messages=ask(), tools=TOOLS)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert calls_of(choice.message) == [("search_docs", {"query": "rate limits"}), ("search_docs", {"query": "retries"})]
    ids = [call.id for call in choice.message.tool_calls]
    assert all(CALL_ID.match(i) for i in ids) and len(set(ids)) == 2
    arguments = [call.function.arguments for call in choice.message.tool_calls]
    assert reply.usage.completion_tokens == sum(count_tokens("search_docs") + count_tokens(a) for a in arguments)
    prompt = "\n".join(m["content"] for m in ask())
    assert reply.usage.prompt_tokens == count_tokens(prompt) + count_tokens(json.dumps(TOOLS))


def test_names_without_parentheses_are_not_calls_and_json_goes_over_the_defaults(fresh) -> None:
    client = fresh.client()
    prose = client.chat.completions.create(
        model=MODEL, messages=ask("Should search_docs or check_facts be used? Explain concurrency."), tools=TOOLS)
    assert prose.choices[0].finish_reason == "stop" and prose.choices[0].message.tool_calls is None
    given = client.chat.completions.create(
        model=MODEL, messages=ask('Run check_facts({"effort": 7, "text": "a (b) c"}) now.'), tools=TOOLS)
    assert calls_of(given.choices[0].message) == [("check_facts", default_arguments(SCHEMAS["check_facts"])
                                                   | {"effort": 7, "text": "a (b) c"})]


def test_a_two_round_agent_loop_ends_in_a_text_quoting_every_tool_result(fresh) -> None:
    messages = ask()
    replies = agent(fresh.client(), messages)
    turns = [[name for name, _ in calls_of(reply.choices[0].message)] for reply in replies]
    assert turns == [["search_docs", "search_docs"], ["check_facts"], []]
    assert calls_of(replies[1].choices[0].message) == [("check_facts", default_arguments(SCHEMAS["check_facts"])
                                                        | {"text": "the draft"})]
    results = [m for m in messages if isinstance(m, dict) and m["role"] == "tool"]
    made = [call for reply in replies for call in reply.choices[0].message.tool_calls or []]
    assert len({call.id for call in made}) == 3 and [call.id for call in made] == [m["tool_call_id"] for m in results]
    names = {call.id: call.function.name for call in made}
    quoted = " ".join(f"{names[m['tool_call_id']]} said: {m['content'].rstrip('.')}." for m in results)
    prompt = "\n".join(text_of(m) for m in messages)
    assert replies[-1].choices[0].message.content == f"{quoted} {answer(prompt, DEFAULTS['seed'])}"
    # what the last request read: every message, the calls made, the tools' definitions
    calls = sum(count_tokens(call.function.name) + count_tokens(call.function.arguments) for call in made)
    assert replies[-1].usage.prompt_tokens == count_tokens(prompt) + calls + count_tokens(json.dumps(TOOLS))
    journal = [(e["tool_calls"], e["tool_messages"]) for e in fresh.requests()]
    assert journal == [(2, 0), (1, 2), (0, 3)]


def test_the_async_client_runs_the_same_loop(fresh) -> None:
    async def loop() -> list[list[str]]:
        turns, messages = [], ask()
        async with fresh.async_client() as client:
            while True:
                reply = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
                message = reply.choices[0].message
                turns.append([name for name, _ in calls_of(message)])
                if reply.choices[0].finish_reason != "tool_calls":
                    return turns
                messages.append(message)
                messages.extend(tool_message(call) for call in message.tool_calls)

    assert asyncio.run(loop()) == [["search_docs", "search_docs"], ["check_facts"], []]


def test_parallel_tool_calls_false_makes_one_call_a_turn(fresh) -> None:
    replies = agent(fresh.client(), ask(), parallel_tool_calls=False)
    assert [[name for name, _ in calls_of(r.choices[0].message)] for r in replies] == [
        ["search_docs"], ["search_docs"], ["check_facts"], []]


def test_each_tool_choice(fresh) -> None:
    client = fresh.client()

    def first_turn(question: str, choice) -> tuple[str, list]:
        reply = client.chat.completions.create(model=MODEL, messages=ask(question), tools=TOOLS, tool_choice=choice)
        return reply.choices[0].finish_reason, calls_of(reply.choices[0].message)

    assert first_turn(QUESTION, "auto")[1] == first_turn(QUESTION, openai.omit)[1] != []
    assert first_turn(QUESTION, "none") == ("stop", [])
    assert first_turn(QUESTION, "required") == first_turn(QUESTION, "auto")
    assert first_turn("Explain concurrency.", "required") == ("tool_calls", [("search_docs", {"query": "query"})])
    assert first_turn("Explain concurrency.", "auto") == ("stop", [])
    check = {"type": "function", "function": {"name": "check_facts"}}
    # the next planned call of that function, although its round has not come
    assert first_turn(QUESTION, check)[1] == [("check_facts", default_arguments(SCHEMAS["check_facts"]) | {"text": "the draft"})]
    assert first_turn("Explain concurrency.", check)[1] == [("check_facts", default_arguments(SCHEMAS["check_facts"]))]


def test_n_choices_make_the_same_calls_with_ids_of_their_own(fresh) -> None:
    reply = fresh.client().chat.completions.create(model=MODEL, messages=ask(), tools=TOOLS, n=2)
    assert [calls_of(c.message) for c in reply.choices] == [calls_of(reply.choices[0].message)] * 2
    assert len({call.id for c in reply.choices for call in c.message.tool_calls}) == 4
    assert fresh.requests()[-1]["tool_calls"] == 4


def test_a_request_without_tools_is_answered_as_before(fresh) -> None:
    messages = [{"role": "user", "content": "Explain AI in 20 words, maybe with search_docs(x)."}]
    reply = fresh.client().chat.completions.create(model=MODEL, messages=messages)
    assert reply.choices[0].message.content == answer(messages[0]["content"], DEFAULTS["seed"])
    assert reply.choices[0].message.tool_calls is None and reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == count_tokens(messages[0]["content"])
    assert (fresh.requests()[-1]["tool_calls"], fresh.requests()[-1]["tool_messages"]) == (0, 0)


# --- streams --------------------------------------------------------------------------------

def test_a_hand_accumulator_rebuilds_the_streamed_calls_as_openai_sends_them(fresh) -> None:
    client = fresh.client()
    whole = client.chat.completions.create(model=MODEL, messages=ask(), tools=TOOLS)
    chunks = list(client.chat.completions.create(model=MODEL, messages=ask(), tools=TOOLS, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[0].choices[0].delta.content is None
    calls: dict[int, dict] = {}
    for chunk in chunks[1:-2]:
        (delta,) = chunk.choices[0].delta.tool_calls
        if delta.index not in calls:  # a call's first delta: all but its arguments
            assert delta.id and delta.type == "function" and delta.function.name and delta.function.arguments == ""
            calls[delta.index] = {"id": delta.id, "name": delta.function.name, "arguments": "", "fragments": 0}
        else:  # then its arguments, a fragment at a time
            assert delta.id is None and delta.function.name is None and delta.function.arguments
            calls[delta.index]["arguments"] += delta.function.arguments
            calls[delta.index]["fragments"] += 1
    assert chunks[-2].choices[0].finish_reason == "tool_calls" and chunks[-2].choices[0].delta.tool_calls is None
    assert [(c["name"], c["arguments"]) for c in calls.values()] == [
        (call.function.name, call.function.arguments) for call in whole.choices[0].message.tool_calls]
    assert len({c["id"] for c in calls.values()}) == 2
    assert [c["fragments"] for c in calls.values()] == [count_tokens(c["arguments"]) for c in calls.values()]  # one a token
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump() == whole.usage.model_dump()


def test_the_sdks_stream_helper_rebuilds_the_calls_sync(fresh) -> None:
    client = fresh.client()
    whole = client.chat.completions.create(model=MODEL, messages=ask(), tools=TOOLS)
    done = []
    with client.chat.completions.stream(model=MODEL, messages=ask(), tools=TOOLS) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.done":
                done.append((event.name, event.arguments))
        final = stream.get_final_completion()
    expected = [(call.function.name, call.function.arguments) for call in whole.choices[0].message.tool_calls]
    assert done == expected
    assert [(c.function.name, c.function.arguments) for c in final.choices[0].message.tool_calls] == expected
    assert final.choices[0].finish_reason == "tool_calls"


def test_the_sdks_stream_helper_rebuilds_the_calls_async_and_parses_strict_ones(fresh) -> None:
    strict = [{"type": "function", "function": {**SEARCH["function"], "strict": True}}, CHECK]

    async def stream_it():
        async with fresh.async_client() as client:
            async with client.chat.completions.stream(model=MODEL, messages=ask(), tools=strict,
                                                      stream_options={"include_usage": True}) as stream:
                return await stream.get_final_completion()

    final = asyncio.run(stream_it())
    parsed = [call.function.parsed_arguments for call in final.choices[0].message.tool_calls]
    assert parsed == [{"query": "rate limits"}, {"query": "retries"}]
    assert final.usage.completion_tokens == sum(
        count_tokens("search_docs") + count_tokens(c.function.arguments) for c in final.choices[0].message.tool_calls)


def test_the_latency_model_times_a_calls_tokens(fresh) -> None:
    fresh.configure(preset="sim-fast", time_scale=0.25)  # 4 ms a token, scaled: 1 ms
    raw = fresh.client().chat.completions.with_raw_response.create(model="sim-fast", messages=ask(), tools=TOOLS)
    tokens = raw.parse().usage.completion_tokens
    generating = float(raw.headers["openai-processing-ms"]) - float(raw.headers["x-sim-ttft-ms"])
    assert abs(generating - tokens * 0.004 * 0.25 * 1000) <= 1  # the headers' milliseconds are rounded


# --- the Batch API ----------------------------------------------------------------------------

def test_a_batch_line_with_tools_gets_the_calls_an_online_request_gets(fresh) -> None:
    fresh.configure(batch_seconds=1)  # 20 ms at this time scale
    client = fresh.client()
    body = {"model": MODEL, "messages": ask(), "tools": TOOLS}
    line = {"custom_id": "agent-1", "method": "POST", "url": "/v1/chat/completions", "body": body}
    uploaded = client.files.create(file=("tools.jsonl", io.BytesIO((json.dumps(line) + "\n").encode())), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    deadline = time.monotonic() + 10
    while (batch := client.batches.retrieve(batch.id)).status != "completed" and time.monotonic() < deadline:
        time.sleep(0.02)
    (result,) = [json.loads(row) for row in client.files.content(batch.output_file_id).text.splitlines()]
    choice = result["response"]["body"]["choices"][0]
    online = client.chat.completions.create(**body)
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert [(c["function"]["name"], c["function"]["arguments"]) for c in choice["message"]["tool_calls"]] == [
        (c.function.name, c.function.arguments) for c in online.choices[0].message.tool_calls]
    assert result["response"]["body"]["usage"] == online.usage.model_dump(exclude_none=True)
    assert next(e for e in fresh.requests() if e["batch_id"])["tool_calls"] == 2


# --- the 400s ---------------------------------------------------------------------------------

CALLED = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_a", "type": "function", "function": {"name": "search_docs", "arguments": "{}"}},
    {"id": "call_b", "type": "function", "function": {"name": "search_docs", "arguments": "{}"}}]}
USER = {"role": "user", "content": "Explain concurrency."}


def answered(*ids: str) -> list[dict]:
    return [{"role": "tool", "tool_call_id": i, "content": "found"} for i in ids]


def tool(**function) -> dict:
    return {"type": "function", "function": {"name": "search_docs", **function}}


MISTAKES = [  # (what the request says, the error's param, words of its message)
    ({"tools": SEARCH}, "tools", "Invalid type for 'tools': expected an array"),
    ({"tools": []}, "tools", "Invalid 'tools': empty array."),
    ({"tools": [{"type": "custom", "custom": {"name": "x"}}]}, "tools[0].type", "supports only 'function' tools"),
    ({"tools": [{"type": "function", "function": {"description": "no name"}}]}, "tools[0].function.name",
     "Missing required parameter"),
    ({"tools": [SEARCH, tool(name="search docs")]}, "tools[1].function.name", "string does not match pattern"),
    ({"tools": [tool(name="s" * 65)]}, "tools[0].function.name", "string too long"),
    ({"tools": [tool(parameters={"type": "array"})]}, "tools[0].function.parameters",
     "Invalid schema for function 'search_docs': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"array\"'."),
    ({"tools": [tool(parameters={"properties": {}})]}, "tools[0].function.parameters", "got 'type: \"None\"'"),
    ({"tools": [tool(parameters=[])]}, "tools[0].function.parameters", "[] is not of type 'object'"),
    ({"tools": [SEARCH, CHECK, SEARCH]}, "tools[2].function.name", "'search_docs' is used by tools[0] and tools[2]"),
    ({"tools": TOOLS, "tool_choice": "sometimes"}, "tool_choice", "Supported values are: 'none', 'auto', and 'required'."),
    ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}, "tool_choice",
     "no function named 'get_weather'"),
    ({"tools": TOOLS, "tool_choice": {"type": "function"}}, "tool_choice", "Invalid value for 'tool_choice'"),
    ({"tools": TOOLS, "tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [SEARCH]}}},
     "tool_choice", "This simulator does not run a tool_choice of type 'allowed_tools'"),
    ({"tools": TOOLS, "tool_choice": {"type": "custom", "custom": {"name": "search_docs"}}}, "tool_choice",
     "This simulator does not run a tool_choice of type 'custom'"),
    ({"functions": [SEARCH["function"]]}, "functions", "send them in 'tools'"),
    ({"tools": TOOLS, "function_call": "auto"}, "function_call", "use 'tool_choice'"),
    ({"tool_choice": "none"}, "tool_choice", "'tool_choice' is only allowed when 'tools' are specified."),
    ({"tools": TOOLS, "parallel_tool_calls": "yes"}, "parallel_tool_calls", "expected a boolean, but got a string"),
    ({"parallel_tool_calls": False}, "parallel_tool_calls",
     "'parallel_tool_calls' is only allowed when 'tools' are specified."),
    ({"messages": [USER, CALLED, {"role": "tool", "content": "found"}, *answered("call_b")]},
     "messages.[2].tool_call_id", "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'."),
    ({"messages": [USER, *answered("call_a")]}, "messages.[1].role",
     "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."),
    ({"messages": [USER, CALLED, *answered("call_a", "call_c")]}, "messages.[3].role", "a preceeding message"),
    ({"messages": [USER, CALLED, *answered("call_b"), USER]}, "messages.[1].role",
     "The following tool_call_ids did not have response messages: call_a"),
    ({"messages": [USER, CALLED]}, "messages.[1].role", "did not have response messages: call_a, call_b"),
    ({"messages": [USER, CALLED, {"role": "tool", "tool_call_id": "call_a", "content": [{"type": "text", "text": 5}]},
                   *answered("call_b")]}, "messages[2].content", "each text part's text must be a string"),
    ({"messages": [USER, {**CALLED, "tool_calls": [{"type": "function", "function": {"name": "x", "arguments": ""}}]},
                   *answered("call_a")]}, "messages[1].tool_calls[0].id", "Missing required parameter"),
]


@pytest.mark.parametrize(("changes", "param", "words"), MISTAKES, ids=[param for _, param, _ in MISTAKES])
def test_a_malformed_tool_request_is_an_openai_shaped_400(fresh, changes, param, words) -> None:
    body = {"model": MODEL, "messages": [USER]} | changes
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.client(max_retries=0).chat.completions.create(**body)
    assert raised.value.param == param and words in raised.value.message
    assert raised.value.type == "invalid_request_error"


def test_a_well_formed_conversation_passes_and_a_streamed_mistake_is_refused_before_any_chunk(fresh) -> None:
    client = fresh.client(max_retries=0)
    reply = client.chat.completions.create(model=MODEL, messages=[USER, CALLED, *answered("call_b", "call_a")])
    assert reply.choices[0].message.content.startswith("search_docs said: found. search_docs said: found. ")
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[USER], tool_choice="auto", stream=True)


def test_the_responses_endpoint_refuses_tools_rather_than_ignoring_them(fresh) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.client(max_retries=0).responses.create(model=MODEL, input="Explain concurrency.", tools=[
            {"type": "function", "name": "search_docs", "parameters": SCHEMAS["search_docs"], "strict": False}])
    assert raised.value.param == "tools" and "/v1/chat/completions" in raised.value.message


# --- what the checks let through still gets an answer -----------------------------------------

def nested(where: object) -> dict:
    """A tool whose required object property `where` has the schema `where` (checks read only the top schema)."""
    return {"type": "function", "function": {"name": "locate", "parameters": {
        "type": "object", "properties": {"where": where}, "required": ["where"]}}}


@pytest.mark.parametrize("where", [
    {"type": "object", "properties": "page", "required": ["page"]},
    {"type": "object", "required": 5},
    {"type": "object", "required": [["page"]]},
    {"enum": {"a": 1}},
], ids=["properties a string", "required a number", "required a list of lists", "enum an object"])
def test_a_malformed_nested_schema_gets_a_call_not_a_500(fresh, where) -> None:
    reply = fresh.client(max_retries=0).chat.completions.create(
        model=MODEL, messages=ask("Run locate() now."), tools=[nested(where)])
    (call,) = reply.choices[0].message.tool_calls
    assert call.function.name == "locate" and "where" in json.loads(call.function.arguments)

/*
 * llm.h: the model behind agent-reply, one interface over Anthropic's
 * Messages API and any OpenAI-compatible Chat Completions server
 * (shared/reference/apis.md sections 0 to 2), with the ledger's account
 * of every call (llm_calls) and the spending caps.
 *
 * Configuration (DESIGN.md section 3):
 *   LLM_PROVIDER   anthropic, openai or rules.  Unset: anthropic when
 *                  ANTHROPIC_API_KEY is set, openai when OPENAI_API_KEY
 *                  or LLM_API_KEY is, else rules.
 *   LLM_MODEL      default claude-sonnet-4-5 (anthropic), gpt-4o-mini
 *                  (openai).
 *   LLM_BASE_URL   default https://api.anthropic.com and
 *                  https://api.openai.com; /v1/messages or
 *                  /v1/chat/completions is appended, only the last part
 *                  when the base already ends in /v1, nothing when it
 *                  ends in the API's path.
 *   keys           anthropic: ANTHROPIC_API_KEY, else LLM_API_KEY;
 *                  openai: OPENAI_API_KEY, else LLM_API_KEY; each may be
 *                  a _FILE.  A provider named in LLM_PROVIDER without its
 *                  key exits 78 naming the variable, except openai with a
 *                  loopback base URL (Ollama, llama.cpp, vLLM on the same
 *                  host), which then runs without Authorization.
 *                  Requests to api.openai.com itself say
 *                  max_completion_tokens (its newer models refuse
 *                  max_tokens); other servers get max_tokens.
 *   LLM_TIMEOUT    seconds one request may take, default 120.
 *   LLM_DAILY_BUDGET  US dollars the day's calls may cost (UTC day of
 *                  sl_now()), default 10; 0: no cap.
 *   LLM_PROSPECT_CAP  calls per prospect and day, default 50; 0: no cap.
 *
 * The conversation is provider-neutral, a jv array of
 *   {"role":"user","text":"..."}
 *   {"role":"assistant","text"?:"...","tool_calls"?:[{"id","name",
 *    "input":{...},"arguments"?}],"reasoning"?:"..."}
 *   {"role":"tool","tool_call_id":"...","name"?:"...","content":"text",
 *    "is_error"?:true}
 * and tools are skills/tools.json entries (name, description,
 * input_schema; sl_tools_specs gives them).  An assistant turn is best
 * put back as the answer's "message", which keeps what the provider
 * needs to see again (OpenAI's arguments text, reasoning_content).
 */
#ifndef SL_LLM_H
#define SL_LLM_H

#include <stdint.h>

#include <jv.h>

#include "google.h"	/* struct sl_svc_err */

struct sl_db;
struct sl_llm;

/*
 * The provider from the environment, or NULL for rules (the caller uses
 * the rules engine).  Exits 78 on a bad configuration.
 */
struct sl_llm *sl_llm_open(void);
void sl_llm_close(struct sl_llm *l);
/* "anthropic" or "openai", and the model asked for. */
const char *sl_llm_provider(const struct sl_llm *l);
const char *sl_llm_model(const struct sl_llm *l);
/* The URL requests go to. */
const char *sl_llm_url(const struct sl_llm *l);

/*
 * One model turn.  Borrows system (may be NULL), messages and tools (an
 * array, may be empty).  On success *answer is a new object:
 *   "text"           the reply text, "" when none
 *   "tool_calls"     [{"id","name","input":{...}}], each with "error"
 *                    when its arguments were not a JSON object (input is
 *                    then {}: answer it with an is_error tool result)
 *   "stop"           end_turn, tool_use, max_tokens or refusal; the calls
 *                    of a max_tokens answer are dropped (cut short, they
 *                    must not run)
 *   "message"        the assistant turn to append to the conversation
 *   "input_tokens", "output_tokens", "usage_estimated"? (no usage came:
 *                    bytes / 4), "latency_ms" (all tries), "cost" (US
 *                    dollars, from a price table of known model
 *                    families; 0 for others), "model" (as answered),
 *                    "provider", "reasoning"? (reasoning_content)
 * and 0 is returned.  Otherwise -1 with err: class temporary after the
 * retries (429, 529, 5xx, 408, 409, timeouts, connection failures) or
 * permanent (a quota or spending limit, any other refusal, a malformed
 * answer, a conversation that cannot be sent); reason is the API's
 * error type or code ("overloaded_error", "invalid_api_key"), "timeout",
 * "connection", "bad_answer" or "invalid_request"; sl_svc_exit_code(err)
 * is 75, 77 for 401/403, or 69.  The message never holds the key.
 */
int sl_llm_complete(struct sl_llm *l, const char *system, jv messages,
    jv tools, int max_tokens, jv *answer, struct sl_svc_err *err);

/*
 * A text that system prompts start with (the skills' method): kept as a
 * JSON string once, so that a prompt that begins with it is not read
 * through again on every call.  Copied.
 */
void sl_llm_preamble(struct sl_llm *l, const char *text);

/*
 * One llm_calls row for the last call: status ok (answer), or from err
 * timeout (reason "timeout"), budget (reason "budget") or error, with its
 * HTTP status and text (masked).  prospect_id 0: none; purpose may be
 * NULL.  Borrows answer.  Returns 0, or -1 with sl_db_error(db).
 */
int sl_llm_log(struct sl_db *db, const struct sl_llm *l, int64_t prospect_id,
    const char *purpose, const jv *answer, const struct sl_svc_err *err);

/*
 * May another call be made?  1 when the day's cost so far is under
 * LLM_DAILY_BUDGET and the prospect's calls today under
 * LLM_PROSPECT_CAP; 0 when not: a row with status budget is logged and
 * *why says which cap and by how much; -1 on a ledger error (*why says
 * so).  *why is a new string or NULL.
 */
int sl_llm_budget_ok(struct sl_db *db, const struct sl_llm *l,
    int64_t prospect_id, char **why);

/* The estimated cost in US dollars of tokens of model; 0 when unknown. */
double sl_llm_cost(const char *model, long input_tokens, long output_tokens);

#endif

/*
 * llm_impl.h: what lib/llm.c shares with the two wire formats
 * (lib/llm_anthropic.c, lib/llm_openai.c).  Not for tools: they see
 * llm.h only.
 *
 * llm.c checks the neutral conversation (sl_llm_check) before a wire
 * file sees it, so the builders may rely on its shape.  A builder returns
 * the request body, or an invalid value with a message.  A parser
 * consumes the answer's body and returns {"text","tool_calls","stop" (the
 * API's own word),"input_tokens"?,"output_tokens"?,"model"?,
 * "reasoning"?}, or an invalid value with a message; llm.c normalises
 * the rest.
 */
#ifndef SL_LLM_IMPL_H
#define SL_LLM_IMPL_H

#include <stddef.h>

#include <jv.h>

/* 0 when messages is a neutral conversation, else -1 with why. */
int sl_llm_check(jv messages, char *why, size_t size);

jv sl_llm_an_request(const char *model, jv system, jv messages,
    jv tools, int max_tokens);
jv sl_llm_an_answer(jv body);

/* max_name: "max_tokens", or "max_completion_tokens" for OpenAI itself. */
jv sl_llm_oa_request(const char *model, jv system, jv messages,
    jv tools, int max_tokens, const char *max_name);
jv sl_llm_oa_answer(jv body);

/* "text" of obj[key] when it is a string, else "". Borrows obj. */
const char *sl_llm_str(jv obj, const char *key);

#endif

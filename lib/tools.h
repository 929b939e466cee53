/*
 * tools.h: the agent's tools, which are commands (DESIGN.md section 1).
 *
 * The table is skills/tools.json: an array of {"name", "description",
 * "input_schema", "command" (argv), "timeout_s", "planned"?, "builtin"?,
 * ...}.  A planned tool is not offered to the model; a builtin one is,
 * but its caller answers it (agent-reply's escalate_to_human).  A
 * call runs the command found on PATH (the pipelines put bin/ first)
 * with the call's arguments as one JSON line on stdin; the JSON lines it
 * writes on stdout are the result.  Every failure (an unknown or planned
 * tool, bad arguments, a command that cannot start, a timeout, a
 * non-zero exit, output that is not JSON lines) is an error result: a
 * short text meant for the model, never a crash of the caller.
 *
 * stderr: the command's diagnostics go on to ours as they come (they are
 * already "prog: message" lines, masked), and the last line of them is
 * kept for the error text of a failed run.
 *
 * $SALESLINE_TOOL_TIMEOUT (seconds, a fraction allowed) overrides every
 * tool's timeout_s; tests make it small.  At the timeout the command's
 * process group gets SIGTERM, and SIGKILL a second later.  Output beyond
 * 1 MiB is an error too.
 */
#ifndef SL_TOOLS_H
#define SL_TOOLS_H

#include <jv.h>

struct sl_tool {
	char *name;
	jv spec;		/* {"name","description","input_schema"} */
	char **argv;		/* NULL-terminated */
	double timeout_s;
	int planned;		/* in the table, not available yet */
	int builtin;		/* offered, answered by the caller */
};

struct sl_tools;

/*
 * Loads and checks the table at path (NULL: $SALESLINE_HOME/skills/
 * tools.json): names unique ([A-Za-z0-9_-], at most 64), input_schema an
 * object of type object, command a non-empty array of non-empty strings,
 * timeout_s a positive number, planned and builtin booleans.  NULL with *err (a new
 * string naming the entry and field) on failure.
 */
struct sl_tools *sl_tools_load(const char *path, char **err);
void sl_tools_free(struct sl_tools *t);

/* The specs for the model (name, description, input_schema) of the
 * available tools, a new array. */
jv sl_tools_specs(const struct sl_tools *t);
/* The tool called name, planned or not, or NULL. */
const struct sl_tool *sl_tools_find(const struct sl_tools *t,
    const char *name);

/*
 * Checks input (borrowed) against the tool's input_schema, for the
 * subset of JSON Schema the table uses: type (object, string, integer,
 * number, boolean, array, null, or a list of them), properties,
 * required, additionalProperties (false or a schema), enum, const,
 * minimum, maximum, minLength, maxLength (in characters), items,
 * minItems, maxItems, format date-time (sl_time_parse) and email
 * (loosely: local@domain.tld).  Returns 0, or -1 with *err, a new string
 * naming the field: "'email': expected a string".
 */
int sl_tools_check(const struct sl_tools *t, const char *name, jv input,
    char **err);

/*
 * Runs the tool name with input (consumed).  extra_env: "NAME=value"
 * strings, NULL-terminated, set in the command's environment (may be
 * NULL).  Returns 0 with *out the array of records the command wrote, or
 * -1 with *err, a new string for the model.  *out is always a new array:
 * after a non-zero exit it holds the records the command wrote all the
 * same (zoom-book explains a failure in a booking.failed line), and *err
 * quotes them or, without any, the last line of its stderr; after other
 * failures it is [].
 */
int sl_tools_run(const struct sl_tools *t, const char *name, jv input,
    char *const *extra_env, jv *out, char **err);

#endif

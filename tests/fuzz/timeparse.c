/*
 * libFuzzer target for time-parse: whatever the bytes, sl_timeparse never
 * aborts, leaks or reads out of bounds.  Run by make fuzz.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl.h"
#include "timeparse.h"
#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sl_zone *zones[3];
	struct sl_tp_result res;
	char *text;
	size_t i;

	if (!zones[0]) {
		sl_init("fuzz");
		zones[0] = sl_zone_load("Asia/Makassar");
		zones[1] = sl_zone_load("Europe/Berlin");
		zones[2] = sl_zone_load("America/New_York");
	}
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	for (i = 0; i < 3; i++) {
		memset(&res, 0, sizeof res);
		sl_timeparse(text, size, 1795069380 + (int64_t)i * 86400 * 97,
		    zones[i], &res);
	}
	free(text);
	return 0;
}

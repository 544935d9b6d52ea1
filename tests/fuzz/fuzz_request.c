/* fuzz_request.c - libFuzzer target for the control-socket request
 * decoder (SPEC 7: it must survive fuzzing). */
#include <stddef.h>
#include <stdint.h>

#include "control/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = NULL, *args = NULL;
	const char *cmd = NULL;
	char err[256];

	if (sysg_ctl_decode_request((const char *)data, size, &req, &cmd, &args,
				    err, sizeof(err)) == 0)
		json_decref(req);
	return 0;
}

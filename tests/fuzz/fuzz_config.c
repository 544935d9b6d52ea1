/* fuzz_config.c - libFuzzer harness for the config loader (`make fuzz`).
 *
 * Feeds arbitrary bytes to sysg_config_load_buffer and checks the loader's
 * contract on every input: success means a config and no diagnostics,
 * failure means no config and at least one diagnostic; a loaded config is
 * consistent (every service in exactly one wave, dependencies in earlier
 * waves). Crashes, leaks and sanitizer reports are found by the fuzzer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The wave of each service; aborts if one is missing or listed twice. */
static void check_waves(const struct sysg_config *cfg)
{
	size_t *wave_of = malloc((cfg->nservices + 1) * sizeof(*wave_of));

	if (!wave_of)
		return;
	for (size_t i = 0; i < cfg->nservices; i++)
		wave_of[i] = SIZE_MAX;
	for (size_t w = 0; w < cfg->nwaves; w++)
		for (size_t j = 0; j < cfg->wave_sizes[w]; j++) {
			size_t s = cfg->waves[w][j];

			if (s >= cfg->nservices || wave_of[s] != SIZE_MAX)
				abort();
			wave_of[s] = w;
		}
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct sysg_service *svc = &cfg->services[i];

		if (wave_of[i] == SIZE_MAX || !svc->command || !svc->envp)
			abort();
		for (size_t d = 0; d < svc->ndepends_on; d++) {
			int k = sysg_config_find_service(cfg, svc->depends_on[d]);

			if (k < 0 || wave_of[k] >= wave_of[i])
				abort();
		}
	}
	free(wave_of);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sysg_config *cfg = NULL;
	struct sysg_diag diag;
	int rc;

	sysg_diag_init(&diag);
	/* a directory that does not exist: relative env files cannot be
	 * found, so the fuzzer does not depend on the files around it */
	rc = sysg_config_load_buffer("fuzz.yaml", "/nonexistent/sysg-fuzz",
				     (const char *)data, size, &cfg, &diag);
	if (rc == 0 && (!cfg || sysg_diag_count(&diag) != 0))
		abort();
	if (rc != 0 && (cfg || sysg_diag_count(&diag) == 0))
		abort();
	for (size_t i = 0; i < diag.n; i++)
		if (strncmp(diag.lines[i], "fuzz.yaml", 9) &&
		    diag.lines[i][0] != '/')
			abort();        /* every message names its file */
	if (cfg)
		check_waves(cfg);
	sysg_config_free(cfg);
	sysg_diag_free(&diag);
	return 0;
}

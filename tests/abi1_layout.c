/* abi1_layout.c - compiled against tests/plugins/abi1 only (the frozen
 * ABI-1 header): the offsets every ABI-1 plugin was built with. */
#include <sysg/plugin.h>

#include "abi_layout.h"

#if SYSG_PLUGIN_ABI_VERSION != 1
#error "abi1_layout.c must see the frozen ABI-1 header"
#endif

const struct abi_slot abi1_slots[] = { ABI1_SLOTS(ABI_SLOT) };
const size_t abi1_nslots = sizeof(abi1_slots) / sizeof(abi1_slots[0]);
const size_t abi1_setting_size = sizeof(struct sysg_setting);

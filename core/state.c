/* state.c - placeholder, being written */
#include "state.h"

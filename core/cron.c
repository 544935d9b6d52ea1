/* cron.c - placeholder, being written */
#include "cron.h"

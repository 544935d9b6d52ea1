/* limits.h - the sizes of sysg's fixed buffers, named once.
 *
 * Names, statuses, reasons and commands of units have theirs in the
 * plugin ABI (<sysg/plugin.h>: SYSG_NAME_MAX...). */
#ifndef SYSG_LIMITS_H
#define SYSG_LIMITS_H

#define SYSG_PATH_MAX        4096  /* a path */
#define SYSG_STATE_FILE_MAX  4200  /* a state directory and a file in it */
#define SYSG_ERR_MAX         512   /* a one-line error message */
#define SYSG_MSG_MAX         8192  /* a multi-line message (validation) */
#define SYSG_LOG_LINE_MAX    768   /* one line of supervisor.log */
#define SYSG_IO_CHUNK        4096  /* one read() of a /proc or pipe file */

#endif

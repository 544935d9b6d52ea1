/* worker.h - the deploy worker process (`sysg __deploy-worker`).
 *
 * Started by the supervisor (host.h) with its end of a socketpair on fd
 * 0. It reads the setup message, loads the strategy plugin, checks the
 * settings, counts the steps of the plan (a dry run of the strategy),
 * then runs the strategy's deploy; every host-API call is a request to
 * the supervisor over the socket (link.h). It ends by sending
 * {"op": "done", "rc", "err"}. A worker whose supervisor goes away exits
 * at its next call. */
#ifndef SYSG_DEPLOY_WORKER_H
#define SYSG_DEPLOY_WORKER_H

/* The hidden command line word. */
#define SYSG_DEPLOY_WORKER_CMD "__deploy-worker"

/* Run the worker on FD; returns the process exit status. */
int sysg_deploy_worker_main(int fd);

#endif

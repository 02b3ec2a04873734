/* The monotonic clock, for durations and deadlines (never for timestamps people read). */
#ifndef AGENTGATE_CLOCK_H
#define AGENTGATE_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
long long clock_monotonic_ms(void);

#endif

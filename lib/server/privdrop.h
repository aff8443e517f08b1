/*
 * privdrop.h - the privilege drop, written once.
 *
 * Order (DESIGN 1): chroot -> chdir("/") -> setgroups(1, &gid) -> setresgid
 * -> setresuid -> verify with getresuid/getresgid -> abort if setuid(0)
 * still works.  Then PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0.  Any
 * failure is fatal (log_fatal): a process must never run half-dropped.
 */
#ifndef YOUJU_PRIVDROP_H
#define YOUJU_PRIVDROP_H

#include <sys/types.h>

/* privdrop_lookup - uid/gid of a user name; -1 when it does not exist */
int	 privdrop_lookup(const char *, uid_t *, gid_t *);
/*
 * privdrop - chroot_dir may be NULL (no chroot); ends with privdrop_harden().
 * uid 0 is fatal.  Not root (development): uid/gid must be the current ones,
 * nothing changes, no chroot, one info line says so.
 */
void	 privdrop(const char *, uid_t, gid_t);
/* privdrop_harden - no new privileges, no core dumps (secrets) */
void	 privdrop_harden(void);

#endif

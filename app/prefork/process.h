// process.h: process and file helpers for the supervisor: fork + exec with descriptors moved into
// place, an exit status in words, a file's identity stamp and a hash of its content.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace core {

struct FdMove {
    int from, to;  // `from` is dup2'ed onto `to` in the child, without close-on-exec
};

// Forks and execs `exec_path` with `argv` (argv[0] included), moving descriptors in order and
// setting the signal mask first; a failed exec ends the child with status 127. The child neither
// logs nor allocates (docs/design.md#fork-and-exec). With `own_group` the child leads a process
// group of its own, so one kill(-pid) reaches whatever it starts (cron's jobs at their cap).
// Returns the pid, or -1 when fork fails. The one way every master here starts a child.
pid_t spawn_process(const std::string& exec_path, const std::vector<std::string>& argv,
                    const std::vector<FdMove>& fds, const sigset_t& mask, bool own_group = false);

// "exit code 3", "signal Killed".
std::string describe_status(int status);

// "inode:size:mtime_ns" of a file, "" when it is missing: changes when the file is replaced
// (a rebuild, a rename over it) or touched.
std::string file_stamp(const std::string& path);

// FNV-1a 64 of the file's bytes in 16 hex digits, "" when unreadable: a build id that changes
// with every different binary.
std::string file_hash(const std::string& path);

// Marks every open descriptor from `lowest` up close-on-exec, so an exec in place carries none that
// a library opened without it (log4cplus's log file: one more per reload otherwise).
void cloexec_from(int lowest);

// Puts this process under SCHED_BATCH (a worker's choice: worker_batch_scheduling): when it is
// woken (a request on its connection, a database reply) it does not preempt the process that
// woke it, so nginx goes on with the replies it has rather than switching per request. Unlike a
// real-time policy it needs no privilege; false (errno set) when the kernel refuses.
bool use_batch_scheduling();

// Replaces this process with `program args...` (argv[0] = program): the re-exec of a reload (the
// server, spooler and cron masters, which mark their descriptors close-on-exec first with
// cloexec_from). Returns only on failure, with errno set.
void exec_program(const std::string& program, const std::vector<std::string>& args);

}  // namespace core

// process.cpp: fork + exec, exit statuses, file stamps and hashes.
#include "app/prefork/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace core {

pid_t spawn_process(const std::string& exec_path, const std::vector<std::string>& argv,
                    const std::vector<FdMove>& fds, const sigset_t& mask, bool own_group)
{
    std::vector<std::string> copy(argv);
    std::vector<char*> args;
    for (auto& a : copy)
        args.push_back(a.data());
    args.push_back(nullptr);

    const pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0 && own_group)
            setpgid(pid, pid);  // in both processes, so the group exists before either relies on it
        return pid;
    }
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    if (own_group)
        setpgid(0, 0);
    // Each source is copied above every target first, so a move never overwrites a source that a
    // later one still needs (a source may sit on another move's target number).
    constexpr std::size_t kMax = 16;
    int from[kMax];
    const std::size_t n = std::min(fds.size(), kMax);
    for (std::size_t i = 0; i < n; ++i)
        from[i] = fcntl(fds[i].from, F_DUPFD_CLOEXEC, 64);
    for (std::size_t i = 0; i < n; ++i)
        dup2(from[i], fds[i].to);  // without close-on-exec
    execv(exec_path.c_str(), args.data());
    _exit(127);
}

std::string describe_status(int status)
{
    if (WIFEXITED(status))
        return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("signal ") + strsignal(WTERMSIG(status));
    return "status " + std::to_string(status);
}

std::string file_stamp(const std::string& path)
{
    struct stat st;
    if (path.empty() || stat(path.c_str(), &st) != 0)
        return "";
    return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

std::string file_hash(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return "";
    std::uint64_t h = 14695981039346656037ull;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        for (std::streamsize i = 0; i < in.gcount(); ++i)
            h = (h ^ static_cast<unsigned char>(buf[i])) * 1099511628211ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

void exec_program(const std::string& program, const std::vector<std::string>& args)
{
    std::vector<std::string> argv{program};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv)
        raw.push_back(a.data());
    raw.push_back(nullptr);
    execv(program.c_str(), raw.data());
}

void cloexec_from(int lowest)
{
    DIR* d = opendir("/proc/self/fd");
    if (!d)
        return;
    while (const dirent* e = readdir(d)) {
        const int fd = std::atoi(e->d_name);
        if (e->d_name[0] != '.' && fd >= lowest && fd != dirfd(d))
            fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
    }
    closedir(d);
}

bool use_batch_scheduling()
{
    const sched_param param{};  // priority 0: the only one SCHED_BATCH takes
    return sched_setscheduler(0, SCHED_BATCH, &param) == 0;
}

}  // namespace core

// test_spool_queue.cpp: the on-disk queue in a temporary folder: names and their order, atomic
// writes, exclusive claims, orphans after a claimer lets go, retry and failed moves, and spool()'s
// error reply when the spool directory is missing or full.
#include <boost/test/unit_test.hpp>

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/tasks/spool.h"
#include "app/tasks/spooler.h"

namespace fs = std::filesystem;
using tasks::TaskName;

namespace {

struct QueueDir {
    std::string dir;
    tasks::SpoolDir spool;
    QueueDir() : dir(make()), spool(dir) { spool.create(); }
    ~QueueDir() { fs::remove_all(dir); }
    static std::string make()
    {
        char tmpl[] = "/tmp/restpie-spool-XXXXXX";
        BOOST_REQUIRE(mkdtemp(tmpl));
        return tmpl;
    }
    std::size_t files(const std::string& folder) const
    {
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(folder))
            n += e.is_regular_file() ? 1 : 0;
        return n;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(spool_queue, QueueDir)

BOOST_AUTO_TEST_CASE(names_round_trip_and_sort_by_priority_then_time)
{
    const TaskName a{0, 1700000000500, 0, "ff01"}, b{5, 1700000000100, 2, "0a"},
        c{5, 1700000000200, 0, "01"};
    BOOST_TEST(b.str() == "p5-t1700000000100-f2-0a.task");
    BOOST_TEST(TaskName::parse(b.str())->str() == b.str());
    BOOST_TEST((a.str() < b.str()));
    BOOST_TEST((b.str() < c.str()));
    for (const char* bad : {".tmp-0123", "p5-t17-f0-ab.task", "p5-t1700000000100-f0-zz.task",
                            "p5-t1700000000100-f0-.task", "x.task", "stats.bin"})
        BOOST_TEST(!TaskName::parse(bad), bad);
}

BOOST_AUTO_TEST_CASE(put_writes_one_whole_file_in_running_order)
{
    const auto later = tasks::Clock::now() + std::chrono::hours(1);
    const auto id_late = spool.put("t", R"({"n":1})", later, 5);
    const auto id_low = spool.put("t", R"({"n":2})", std::nullopt, 9);
    const auto id_high = spool.put("t", R"({"n":3})", std::nullopt, 1);
    const auto queued = spool.list(dir);
    BOOST_REQUIRE(queued.size() == 3u);
    BOOST_TEST(queued[0].id == id_high);
    BOOST_TEST(queued[1].id == id_late);
    BOOST_TEST(queued[1].not_before_ms == tasks::to_ms(later));
    BOOST_TEST(queued[2].id == id_low);
    BOOST_TEST(files(dir) == 3u);  // no temporary file left behind
    BOOST_CHECK_THROW(spool.put("t", "[1]", std::nullopt, 5), std::invalid_argument);
    BOOST_CHECK_THROW(spool.put("t", "{", std::nullopt, 5), std::invalid_argument);
    BOOST_CHECK_THROW(spool.put("t", "{}", std::nullopt, 10), std::invalid_argument);
    BOOST_CHECK_THROW(spool.put("a b", "{}", std::nullopt, 5), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_claim_is_exclusive_and_an_abandoned_one_is_an_orphan)
{
    spool.put("mail", R"({"to":"a@b"})", std::nullopt, 5);
    const auto t = spool.list(dir).at(0);
    {
        auto claim = spool.claim(t);
        BOOST_REQUIRE(claim);
        BOOST_TEST(claim->task() == "mail");
        BOOST_TEST(core::JsonObject::parse(claim->args_json()).required_string("to") == "a@b");
        BOOST_TEST(!spool.claim(t));          // moved: nobody else gets it
        BOOST_TEST(spool.orphans().empty());  // locked: its claimer lives
        BOOST_TEST(spool.list(spool.running_dir()).size() == 1u);
    }  // dropped unsettled, as when the process dies
    auto orphans = spool.orphans();
    BOOST_REQUIRE(orphans.size() == 1u);
    BOOST_TEST(orphans[0].name().id == t.id);
    const auto when = tasks::Clock::now() + std::chrono::seconds(30);
    orphans[0].retry(when);
    const auto back = spool.list(dir);
    BOOST_REQUIRE(back.size() == 1u);
    BOOST_TEST(back[0].failures == 1);
    BOOST_TEST(back[0].not_before_ms == tasks::to_ms(when));
    BOOST_TEST(spool.list(spool.running_dir()).empty());
}

BOOST_AUTO_TEST_CASE(done_deletes_and_fail_keeps_the_error)
{
    spool.put("a", "{}", std::nullopt, 5);
    spool.put("b", "{}", std::nullopt, 6);
    auto first = spool.claim(spool.list(dir).at(0));
    BOOST_REQUIRE(first);
    first->done();
    auto second = spool.claim(spool.list(dir).at(0));
    BOOST_REQUIRE(second);
    second->fail("smtp down");
    BOOST_TEST(spool.list(dir).empty());
    BOOST_TEST(spool.list(spool.running_dir()).empty());
    const auto failed = spool.list(spool.failed_dir());
    BOOST_REQUIRE(failed.size() == 1u);
    BOOST_TEST(failed[0].failures == 1);
    BOOST_TEST(fs::exists(spool.failed_dir() + "/" + failed[0].stem() + ".error"));
}

BOOST_AUTO_TEST_CASE(spool_answers_503_when_the_directory_is_missing)
{
    const core::Config saved = core::config();
    auto c = saved;
    c.set("spool_dir", dir + "/no-such-folder");
    core::set_config(c);
    try {
        tasks::spool("send_email", "{}");
        BOOST_ERROR("spool() did not throw");
    } catch (const core::HttpError& e) {
        BOOST_TEST(e.status == 503);
        BOOST_TEST(std::string(e.what()) == "task not spooled: spool directory missing");
    }
    c.set("spool_dir", dir);
    core::set_config(c);
    BOOST_TEST(tasks::spool("send_email", R"({"to":"x@y"})").size() == 16u);
    BOOST_TEST(spool.list(dir).size() == 1u);
    core::set_config(saved);
}

// A full disk: the spool directory on a tmpfs of 64 KB, mounted in a mount namespace of this
// process's own (nothing else sees it; it needs root, as CI runs). Once the tasks fill it, every
// spool() is a 503 "spool directory full", and nothing is left half-written: each file in the
// folder is a whole task, and no temporary file remains.
BOOST_AUTO_TEST_CASE(spool_answers_503_when_the_disk_is_full)
{
    if (geteuid() != 0) {
        BOOST_TEST_MESSAGE("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    BOOST_REQUIRE(unshare(CLONE_NEWNS) == 0);
    BOOST_REQUIRE(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
    BOOST_REQUIRE(mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k") == 0);
    spool.create();
    const core::Config saved = core::config();
    auto c = saved;
    c.set("spool_dir", dir);
    core::set_config(c);
    const std::string args = R"({"text":")" + std::string(3000, 'x') + R"("})";
    int spooled = 0;
    std::string refusal;
    for (int i = 0; i < 100 && refusal.empty(); ++i) {
        try {
            tasks::spool("send_email", args);
            ++spooled;
        } catch (const core::HttpError& e) {
            BOOST_TEST(e.status == 503);
            refusal = e.what();
        }
    }
    core::set_config(saved);
    BOOST_TEST(spooled > 0);
    BOOST_TEST(refusal == "task not spooled: spool directory full");
    BOOST_TEST(spool.list(dir).size() == static_cast<std::size_t>(spooled));
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file())
            continue;
        BOOST_TEST(e.path().filename().string().rfind(".tmp-", 0) != 0, e.path());
        std::ifstream in(e.path());
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        BOOST_TEST(text.find(args) != std::string::npos, e.path());
        BOOST_TEST(text.back() == '\n', e.path());
    }
    BOOST_TEST(umount2(dir.c_str(), MNT_DETACH) == 0);
}

BOOST_AUTO_TEST_CASE(retry_delay_doubles_up_to_a_day)
{
    BOOST_TEST(tasks::retry_delay_seconds(1, 60) == 60);
    BOOST_TEST(tasks::retry_delay_seconds(2, 60) == 120);
    BOOST_TEST(tasks::retry_delay_seconds(4, 60) == 480);
    BOOST_TEST(tasks::retry_delay_seconds(100, 60) == 86400);
}

BOOST_AUTO_TEST_SUITE_END()

/* test_file.c: qw_file_write_atomic on every kind of path it is given:
 * regular files are replaced atomically (new inode, no temp left behind);
 * FIFOs, character devices and /dev/std* style descriptors are written in
 * place; symlinks are followed to their target and stay symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/file.h"
#include "harness.h"

static char dir[64];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof dir, "/tmp/qwfile.XXXXXX");
    ASSERT_TRUE(mkdtemp(dir) != NULL);
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
}

static void path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static size_t slurp(const char *p, char *buf, size_t cap)
{
    FILE *f = fopen(p, "rb");
    ASSERT_TRUE(f != NULL);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

/* entries in dir (to catch leftover temp files) */
static int entries(void)
{
    char cmd[128];
    int n = 0;
    for (; n < 16; n++) {
        snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq %d", dir, n);
        if (system(cmd) == 0)
            return n;
    }
    return -1;
}

TEST(file_regular_replaced_atomically)
{
    mkdir_tmp();
    char p[128], buf[64];
    path(p, sizeof p, "out.json");
    ASSERT_OK(qw_file_write_atomic(p, "one", 3, NULL, 0));
    struct stat a, b;
    ASSERT_EQ(stat(p, &a), 0);
    ASSERT_OK(qw_file_write_atomic(p, "second", 6, NULL, 0));
    ASSERT_EQ(stat(p, &b), 0);
    ASSERT_TRUE(S_ISREG(b.st_mode));
    ASSERT_NE(a.st_ino, b.st_ino); /* a new file renamed over the old one */
    ASSERT_EQ(slurp(p, buf, sizeof buf), 6);
    ASSERT_STREQ(buf, "second");
    ASSERT_EQ(entries(), 1);
    rm_tmp();
}

TEST(file_symlink_to_regular_followed)
{
    mkdir_tmp();
    char target[128], link[128], buf[64];
    path(target, sizeof target, "target.json");
    path(link, sizeof link, "link.json");
    ASSERT_OK(qw_file_write_atomic(target, "old", 3, NULL, 0));
    ASSERT_EQ(symlink("target.json", link), 0); /* relative, resolved against the link's dir */
    ASSERT_OK(qw_file_write_atomic(link, "new", 3, NULL, 0));
    struct stat st;
    ASSERT_EQ(lstat(link, &st), 0);
    ASSERT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(slurp(target, buf, sizeof buf), 3);
    ASSERT_STREQ(buf, "new");
    /* a dangling link creates its target */
    char dang[128], made[128];
    path(dang, sizeof dang, "dangling");
    path(made, sizeof made, "made.json");
    ASSERT_EQ(symlink(made, dang), 0);
    ASSERT_OK(qw_file_write_atomic(dang, "x", 1, NULL, 0));
    ASSERT_EQ(lstat(dang, &st), 0);
    ASSERT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(slurp(made, buf, sizeof buf), 1);
    ASSERT_EQ(entries(), 4);
    rm_tmp();
}

/* read a FIFO in a child; returns its pid, the data lands in out_path */
static pid_t fifo_reader(const char *fifo, const char *out_path)
{
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) != 1)
            _exit(1);
        execlp("cat", "cat", fifo, (char *)NULL);
        _exit(1);
    }
    return pid;
}

static void check_fifo(const char *fifo_or_link, const char *fifo)
{
    char out[128], buf[64];
    path(out, sizeof out, "fifo.out");
    pid_t pid = fifo_reader(fifo, out);
    qw_err e = qw_file_write_atomic(fifo_or_link, "through the pipe", 16, NULL, 0);
    struct stat s;
    if (stat(fifo, &s) != 0 || !S_ISFIFO(s.st_mode)) {
        kill(pid, SIGKILL); /* the FIFO was replaced: its reader would wait forever */
        waitpid(pid, NULL, 0);
        ASSERT_TRUE(!"the FIFO was replaced by a regular file");
    }
    ASSERT_OK(e);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ASSERT_EQ(slurp(out, buf, sizeof buf), 16);
    ASSERT_STREQ(buf, "through the pipe");
    unlink(out);
}

TEST(file_fifo_written_in_place)
{
    mkdir_tmp();
    char fifo[128], link[128];
    path(fifo, sizeof fifo, "fifo");
    path(link, sizeof link, "fifo.link");
    ASSERT_EQ(mkfifo(fifo, 0600), 0);
    check_fifo(fifo, fifo);
    ASSERT_EQ(symlink(fifo, link), 0);
    check_fifo(link, fifo);
    struct stat st;
    ASSERT_EQ(lstat(link, &st), 0);
    ASSERT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(entries(), 2);
    rm_tmp();
}

TEST(file_char_device_written_in_place)
{
    mkdir_tmp();
    char dev[128];
    path(dev, sizeof dev, "null");
    /* a private node for the null device (root only): never /dev/null itself */
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        fprintf(stderr, "SKIPPED part: mknod: %s\n", strerror(errno));
        ASSERT_TRUE(1);
        rm_tmp();
        return;
    }
    ASSERT_OK(qw_file_write_atomic(dev, "discard me", 10, NULL, 0));
    struct stat st;
    ASSERT_EQ(lstat(dev, &st), 0);
    ASSERT_TRUE(S_ISCHR(st.st_mode));
    ASSERT_EQ(entries(), 1);
    rm_tmp();
}

TEST(file_descriptor_paths_write_to_the_descriptor)
{
    mkdir_tmp();
    char out[128], link[128], buf[64];
    path(out, sizeof out, "stdout.txt");
    path(link, sizeof link, "stdout.link");
    /* fd 1 -> a regular file opened for append: the write lands at the end
     * of that open file, the file is not replaced */
    int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(write(fd, "head:", 5), 5);
    fflush(stdout);
    int saved = dup(1);
    ASSERT_TRUE(saved >= 0);
    ASSERT_EQ(dup2(fd, 1), 1);
    struct stat a, b;
    ASSERT_EQ(stat(out, &a), 0);
    ASSERT_EQ(symlink("/proc/self/fd/1", link), 0); /* private stand-in for /dev/stdout */
    qw_err e1 = qw_file_write_atomic(link, "via-link;", 9, NULL, 0);
    qw_err e2 = qw_file_write_atomic("/dev/fd/1", "via-fd", 6, NULL, 0);
    dup2(saved, 1);
    close(saved);
    close(fd);
    ASSERT_OK(e1);
    ASSERT_OK(e2);
    ASSERT_EQ(stat(out, &b), 0);
    ASSERT_EQ(a.st_ino, b.st_ino);
    ASSERT_EQ(slurp(out, buf, sizeof buf), 20);
    ASSERT_STREQ(buf, "head:via-link;via-fd");
    struct stat st;
    ASSERT_EQ(lstat(link, &st), 0);
    ASSERT_TRUE(S_ISLNK(st.st_mode));
    rm_tmp();
}

TEST(file_directory_refused)
{
    mkdir_tmp();
    char err[256] = "";
    ASSERT_ERR(QW_IO, qw_file_write_atomic(dir, "x", 1, err, sizeof err));
    ASSERT_TRUE(err[0] != '\0');
    struct stat st;
    ASSERT_EQ(stat(dir, &st), 0);
    ASSERT_TRUE(S_ISDIR(st.st_mode));
    rm_tmp();
}

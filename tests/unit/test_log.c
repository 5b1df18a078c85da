/* test_log.c: every log line is one JSON object with the keys Cloud Logging
 * reads (severity, message), whatever the message holds. */
#define QW_MODULE "test"
#include <jansson.h>
#include <unistd.h>

#include "core/log.h"
#include "harness.h"

TEST(log_lines_are_json_with_severity_and_message)
{
    char path[] = "/tmp/qw_log_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    qw_log_set_level(QW_LOG_DEBUG);
    char big[1500];
    for (size_t i = 0; i + 3 <= sizeof big - 1; i += 3)
        memcpy(big + i, "\xe2\x82\xac", 3); /* euro signs: the limit cuts one in half */
    big[sizeof big - 1 - (sizeof big - 1) % 3] = '\0';
    QW_LOG(INFO, "plain");
    QW_LOG(WARN, "quote \" backslash \\ newline \n tab \t bell \a");
    QW_LOG(ERROR, "x%s", big); /* 1 + 340 * 3 + 2 bytes fit the 1023 */
    QW_LOG(DEBUG, "debug %d", 42);
    dup2(saved, 2);
    close(saved);
    FILE *f = fdopen(fd, "r");
    ASSERT_TRUE(f != NULL);
    rewind(f);
    static const char *want_sev[] = {"INFO", "WARNING", "ERROR", "DEBUG"};
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o)
            qwt_fail(__FILE__, __LINE__, "line %d is not JSON (%s): %s", n, je.text, line);
        ASSERT_TRUE(n < 4);
        ASSERT_TRUE(strcmp(json_string_value(json_object_get(o, "severity")), want_sev[n]) == 0);
        ASSERT_TRUE(json_is_string(json_object_get(o, "message")));
        ASSERT_TRUE(json_object_get(o, "msg") == NULL);
        ASSERT_TRUE(json_is_string(json_object_get(o, "time")));
        if (n == 1)
            ASSERT_TRUE(strstr(json_string_value(json_object_get(o, "message")), "quote \" "));
        json_decref(o);
        n++;
    }
    ASSERT_EQ(n, 4);
    fclose(f);
    unlink(path);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "broker_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool broker_start(broker_process *b, const char *exe, const char *const *args)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "%s/hmtp-broker-test-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(b->dir)) {
        snprintf(b->error, sizeof b->error, "mkdtemp: %s", strerror(errno));
        return false;
    }
    char port_file[300];
    snprintf(port_file, sizeof port_file, "%s/port", b->dir);
    snprintf(b->log_path, sizeof b->log_path, "%s/log", b->dir);
    const char *argv[64];
    int n = 0;
    argv[n++] = exe;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--port-file";
    argv[n++] = port_file;
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    b->pid = fork();
    if (b->pid < 0) {
        snprintf(b->error, sizeof b->error, "fork: %s", strerror(errno));
        return false;
    }
    if (b->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(b->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    for (int waited = 0; waited < 10000; waited += 10) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            unsigned port = 0;
            int got = fscanf(f, "%u", &port);
            fclose(f);
            if (got == 1 && port > 0 && port < 65536) {
                b->port = (uint16_t)port;
                return true;
            }
        }
        int status;
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            b->pid = 0;
            snprintf(b->error, sizeof b->error, "broker exited before listening (see %s)",
                     b->log_path);
            return false;
        }
        sleep_ms(10);
    }
    snprintf(b->error, sizeof b->error, "no port file after 10 s");
    return false;
}

bool broker_alive(broker_process *b)
{
    int status;
    return b->pid > 0 && waitpid(b->pid, &status, WNOHANG) == 0;
}

static void remove_dir(broker_process *b)
{
    char path[400];
    snprintf(path, sizeof path, "%s/port", b->dir);
    unlink(path);
    unlink(b->log_path);
    rmdir(b->dir);
}

int broker_stop(broker_process *b)
{
    int result = -1;
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        int status = 0;
        pid_t r = 0;
        for (int waited = 0; waited < 10000 && (r = waitpid(b->pid, &status, WNOHANG)) == 0;
             waited += 10)
            sleep_ms(10);
        if (r == b->pid && WIFEXITED(status)) {
            result = WEXITSTATUS(status);
        } else if (r == 0) {
            kill(b->pid, SIGKILL);
            waitpid(b->pid, &status, 0);
        }
        b->pid = 0;
    }
    if (getenv("HMTP_KEEP_BROKER_LOG")) {
        fprintf(stderr, "broker log kept in %s\n", b->log_path);
        return result;
    }
    remove_dir(b);
    return result;
}

static char *read_log(broker_process *b)
{
    FILE *f = fopen(b->log_path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    size_t n;
    while (text && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *bigger = realloc(text, cap * 2);
            if (!bigger) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (text)
        text[len] = '\0';
    return text;
}

bool broker_log_has(broker_process *b, const char *needle, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        char *text = read_log(b);
        bool found = text && strstr(text, needle);
        free(text);
        if (found)
            return true;
        if (waited >= timeout_ms)
            return false;
        sleep_ms(20);
    }
}

int broker_log_count(broker_process *b, const char *needle)
{
    char *text = read_log(b);
    int count = 0;
    for (char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        count++;
    free(text);
    return count;
}

int broker_cases_main(int argc, char **argv, const broker_case *cases, size_t ncases, const char **exe,
                      void (*before)(const broker_case *c))
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s BROKER_EXE CASE\n", argv[0]);
        return 2;
    }
    *exe = argv[1];
    const broker_case *found = NULL;
    for (size_t i = 0; i < ncases && !found; i++)
        if (strcmp(cases[i].name, argv[2]) == 0)
            found = &cases[i];
    if (!found) {
        fprintf(stderr, "%s: no case named '%s'\n", argv[0], argv[2]);
        return 2;
    }
    if (before)
        before(found);
    bool ok = found->args ? broker_with(*exe, found->args, found->fn) : found->fn(NULL);
    fprintf(stderr, "%s: %s\n", argv[2], ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

bool broker_with(const char *exe, const char *const *args, broker_case_fn fn)
{
    broker_process b;
    if (!broker_start(&b, exe, args)) {
        fprintf(stderr, "cannot start the broker: %s\n", b.error);
        broker_stop(&b);
        return false;
    }
    bool ok = fn(&b);
    bool alive = broker_alive(&b);
    int status = broker_stop(&b);
    if (ok && !alive) {
        fprintf(stderr, "the broker died during the test\n");
        return false;
    }
    if (ok && status != 0) {
        fprintf(stderr, "the broker did not shut down cleanly on SIGTERM (status %d)\n", status);
        return false;
    }
    return ok;
}

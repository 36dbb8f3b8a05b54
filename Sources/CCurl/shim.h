// libcurl's curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed
// wrapper per argument kind.
#include <curl/curl.h>

typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ccurl_setopt_callback(CURL *handle, CURLoption option, ccurl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
// CURLOPT_XFERINFOFUNCTION: called about once a second even while no byte moves (a long poll), so a
// transfer can be given up when the caller stops; a nonzero return aborts it.
typedef int (*ccurl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                                       curl_off_t ulnow);
static inline CURLcode ccurl_setopt_progress(CURL *handle, ccurl_progress_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}
static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

// pipe2(2) with O_CLOEXEC, which Glibc's Swift module does not declare (it needs _GNU_SOURCE): an
// object's body pipe must not leak into a child that --exec starts meanwhile.
extern int pipe2(int pipefd[2], int flags);
static inline int ccurl_pipe_cloexec(int ends[2]) { return pipe2(ends, 02000000 /* O_CLOEXEC */); }

// Linked into every executable of a -DSIGNPOST_TSAN=ON build only (see the
// SIGNPOST_TSAN block in CMakeLists.txt); never part of a normal build.
//
// libuv (Debian's libuv1, not built with TSan) closes descriptors with a raw
// syscall(SYS_close) on Linux (uv__close_nocancel, src/unix/core.c), so TSan
// never sees those closes: it keeps a socket a TCP worker's loop accepted and
// closed as that thread's, and when the kernel hands the same number to the
// control loop (opendir/closedir on reload) it reports a false "data race on
// file descriptor N created at accept4 <- libuv.so.1". This definition of
// syscall() takes precedence over libc's for libuv's calls and tells TSan
// about SYS_close through the sanitizer syscall hooks -- what libuv itself
// does when it is built with clang and TSan.
#include <dlfcn.h>
#include <sys/syscall.h>

#include <cstdarg>

extern "C" void __sanitizer_syscall_pre_impl_close(long fd);
extern "C" void __sanitizer_syscall_post_impl_close(long res, long fd);

extern "C" long syscall(long number, ...) noexcept {
    using Real = long (*)(long, ...);
    static Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "syscall"));
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (long& x : a) x = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_close) __sanitizer_syscall_pre_impl_close(a[0]);
    long rc = real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (number == SYS_close) __sanitizer_syscall_post_impl_close(rc, a[0]);
    return rc;
}

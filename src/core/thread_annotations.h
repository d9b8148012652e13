// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html,
// the same macro names as Abseil and Chromium). With clang and -Wthread-safety
// the compiler proves that every member marked GUARDED_BY(mu_) is touched only
// with mu_ held; with any other compiler they expand to nothing. std::mutex is
// not annotated in libstdc++, so guard members with verbatim::Mutex
// (core/mutex.h). The clang fuzz build turns the warnings into errors
// (fuzz/CMakeLists.txt; docs/decisions.md, "Clang thread-safety analysis").
#pragma once

#if defined(__clang__)
#define VERBATIM_TSA(x) __attribute__((x))
#else
#define VERBATIM_TSA(x)
#endif

// Abseil (pulled in by gRPC's headers) defines the same legacy names with the
// same meaning; ours replace them rather than warn about a redefinition.
#undef CAPABILITY
#undef GUARDED_BY
#undef PT_GUARDED_BY
#undef REQUIRES
#undef REQUIRES_SHARED
#undef EXCLUDES
#undef ACQUIRE
#undef ACQUIRE_SHARED
#undef RELEASE
#undef RELEASE_SHARED
#undef RELEASE_GENERIC
#undef TRY_ACQUIRE
#undef ASSERT_CAPABILITY
#undef ASSERT_SHARED_CAPABILITY
#undef RETURN_CAPABILITY
#undef ACQUIRED_BEFORE
#undef ACQUIRED_AFTER
#undef SCOPED_CAPABILITY
#undef NO_THREAD_SAFETY_ANALYSIS

// On a class: instances are a lock ("mutex") the analysis tracks.
#define CAPABILITY(x) VERBATIM_TSA(capability(x))
// On an RAII class: acquires in its constructor, releases in its destructor.
#define SCOPED_CAPABILITY VERBATIM_TSA(scoped_lockable)
// On a data member: read or written only with the given lock held.
#define GUARDED_BY(x) VERBATIM_TSA(guarded_by(x))
// On a pointer member: the pointee is accessed only with the lock held.
#define PT_GUARDED_BY(x) VERBATIM_TSA(pt_guarded_by(x))
// On a function: the caller must hold (REQUIRES) / must not hold (EXCLUDES) these.
#define REQUIRES(...) VERBATIM_TSA(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) VERBATIM_TSA(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) VERBATIM_TSA(locks_excluded(__VA_ARGS__))
// On a function: it acquires / releases the lock (exclusive or shared).
#define ACQUIRE(...) VERBATIM_TSA(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) VERBATIM_TSA(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) VERBATIM_TSA(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) VERBATIM_TSA(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) VERBATIM_TSA(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) VERBATIM_TSA(try_acquire_capability(__VA_ARGS__))
// On a function: tells the analysis the lock is held here (checked by the caller's logic).
#define ASSERT_CAPABILITY(x) VERBATIM_TSA(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) VERBATIM_TSA(assert_shared_capability(x))
// On a function: it returns a reference to the given lock.
#define RETURN_CAPABILITY(x) VERBATIM_TSA(lock_returned(x))
// On a lock member: the lock order (one lock taken before / after another).
#define ACQUIRED_BEFORE(...) VERBATIM_TSA(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) VERBATIM_TSA(acquired_after(__VA_ARGS__))
// On a function the analysis cannot follow; say why next to each use.
#define NO_THREAD_SAFETY_ANALYSIS VERBATIM_TSA(no_thread_safety_analysis)

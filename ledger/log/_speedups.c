/* The verifier's hot loop in C: an optional accelerator of ledger.log.rows and ledger.log.merkle.
 *
 * The pure-Python code in ledger/log/rows.py (check_rows_python) and ledger/log/merkle.py (perfect_levels) is the
 * reference; this file computes exactly the same results, and tests/ledger/log/test_speedups.py checks that on random
 * and tampered rows. Why C: on CPython every hashlib call costs about 1 us of fixed overhead, and each row needs
 * three hashes (leaf, chain, one Merkle node); here a hash costs what SHA-256 itself costs.
 *
 * SHA-256 is OpenSSL's libcrypto (the library Python's own hashlib uses): one EVP_MD fetched once, one EVP_MD_CTX
 * per call reused for every hash. The GIL is released while hashing.
 *
 * check_rows(rows, expected, previous, last_time) -> (expected, previous, last_time, leaves, failure)
 *     rows: a list (or tuple) of buffers, each one row of a binary COPY of
 *           leaf_index, recorded_at, leaf_hash, chain_hash, originator_id, originator_version, topic, state
 *           (PostgreSQL's binary format: int16 field count, then each field as int32 length + bytes); a row that is
 *           exactly the COPY trailer (0xffff) is skipped.
 *     expected: the leaf index the first row must have; previous: the chain hash before it (32 bytes);
 *     last_time: the recorded_at (microseconds since 2000-01-01) before it.
 *     Returns the state after the last row that passed, the concatenated leaf hashes of the rows that passed, and
 *     None or the first failure as (leaf index, kind, stored leaf index): kind is one of the module's FAILURE_*
 *     constants; the stored leaf index is the row's own (meaningful for FAILURE_INDEX only, else -1).
 *
 * merkle_level(hashes) -> bytes
 *     hashes: concatenated 32-byte node hashes; returns their parents, SHA-256(0x01 || left || right) for each
 *     consecutive pair (RFC 9162), concatenated; an odd last hash has no parent yet and is left out.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#define HASH 32

/* Offsets in a row: the fixed-size fields come first (see _ROW in ledger/log/rows.py). */
#define COUNT 0
#define L_INDEX 2
#define INDEX 6
#define L_RECORDED 14
#define RECORDED 18
#define L_LEAF 26
#define LEAF 30
#define L_CHAIN 62
#define CHAIN 66
#define L_ID 98
#define ID 102
#define L_VERSION 118
#define VERSION 122 /* the leaf's canonical bytes go on from here to the end of the row */
#define TOPIC_LENGTH 130
#define TOPIC 134

enum failure {
    FAILURE_NONE = 0,
    FAILURE_MALFORMED = 1,  /* not the shape of the events table's row */
    FAILURE_INDEX = 2,      /* another leaf index than expected: a row deleted, duplicated or out of order */
    FAILURE_LEAF = 3,       /* the stored leaf_hash does not match the row's contents */
    FAILURE_CHAIN = 4,      /* chain_hash does not follow from the leaves before */
    FAILURE_TIME = 5,       /* recorded_at runs backwards */
};

static const unsigned char leaf_prefix[5] = {0x00, 'J', 'X', 'L', '1'}; /* 0x00 || "JXL1" (ledger.integrity) */
static const unsigned char node_prefix[1] = {0x01};

static EVP_MD *sha256_md; /* fetched once at import; an EVP_MD is safe to share between threads */

static int
digest_init(EVP_MD_CTX *ctx)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return EVP_DigestInit_ex2(ctx, sha256_md, NULL);
#else
    return EVP_DigestInit_ex(ctx, sha256_md, NULL);
#endif
}

static inline int32_t
be32(const unsigned char *p)
{
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

static inline int16_t
be16(const unsigned char *p)
{
    return (int16_t)(((uint16_t)p[0] << 8) | (uint16_t)p[1]);
}

static inline int64_t
be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return (int64_t)v;
}

typedef struct {
    int64_t expected;
    unsigned char previous[HASH];
    int64_t last_time;
    Py_ssize_t kept;      /* rows that passed: their leaf hashes are in the output */
    int failure;          /* enum failure */
    int64_t failed_at;    /* the leaf index reported */
    int64_t stored;       /* the row's own leaf index (FAILURE_INDEX) */
    int openssl_error;
    int overflow;
} check_state;

/* One row: 1 if it passed (its leaf hash written to out), 0 if skipped (the trailer), -1 if it failed. */
static int
check_row(EVP_MD_CTX *ctx, const unsigned char *row, Py_ssize_t len, check_state *st, unsigned char *out)
{
    if (len < TOPIC) {
        if (len == 2 && row[0] == 0xff && row[1] == 0xff) {
            return 0;
        }
        st->failure = FAILURE_MALFORMED;
        st->failed_at = st->expected;
        return -1;
    }
    int64_t topic_length = be32(row + TOPIC_LENGTH);
    if (topic_length < 0 || TOPIC + topic_length + 4 > (int64_t)len
        || be16(row + COUNT) != 8 || be32(row + L_INDEX) != 8 || be32(row + L_RECORDED) != 8
        || be32(row + L_LEAF) != HASH || be32(row + L_CHAIN) != HASH || be32(row + L_ID) != 16
        || be32(row + L_VERSION) != 8
        || (int64_t)be32(row + TOPIC + topic_length) != (int64_t)len - TOPIC - 4 - topic_length) {
        st->failure = FAILURE_MALFORMED;
        st->failed_at = st->expected;
        return -1;
    }
    int64_t index = be64(row + INDEX);
    if (index != st->expected) {
        st->failure = FAILURE_INDEX;
        st->failed_at = st->expected;
        st->stored = index;
        return -1;
    }
    unsigned char *leaf = out;
    if (!digest_init(ctx) || !EVP_DigestUpdate(ctx, leaf_prefix, sizeof leaf_prefix)
        || !EVP_DigestUpdate(ctx, row + ID, 16) || !EVP_DigestUpdate(ctx, row + VERSION, (size_t)(len - VERSION))
        || !EVP_DigestFinal_ex(ctx, leaf, NULL)) {
        st->openssl_error = 1;
        return -1;
    }
    if (memcmp(leaf, row + LEAF, HASH) != 0) {
        st->failure = FAILURE_LEAF;
        st->failed_at = index;
        return -1;
    }
    unsigned char link[2 * HASH];
    memcpy(link, st->previous, HASH);
    memcpy(link + HASH, leaf, HASH);
    if (!digest_init(ctx) || !EVP_DigestUpdate(ctx, link, sizeof link)
        || !EVP_DigestFinal_ex(ctx, st->previous, NULL)) {
        st->openssl_error = 1;
        return -1;
    }
    if (memcmp(st->previous, row + CHAIN, HASH) != 0) {
        st->failure = FAILURE_CHAIN;
        st->failed_at = index;
        return -1;
    }
    int64_t recorded = be64(row + RECORDED);
    if (recorded < st->last_time) {
        st->failure = FAILURE_TIME;
        st->failed_at = index;
        return -1;
    }
    if (st->expected == INT64_MAX) { /* the next leaf index would not fit in a bigint */
        st->overflow = 1;
        return -1;
    }
    st->last_time = recorded;
    st->expected += 1;
    return 1;
}

static PyObject *
check_rows(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *rows_arg;
    long long expected, last_time;
    Py_buffer previous;
    if (!PyArg_ParseTuple(args, "OLy*L:check_rows", &rows_arg, &expected, &previous, &last_time)) {
        return NULL;
    }
    if (previous.len != HASH) {
        PyBuffer_Release(&previous);
        PyErr_SetString(PyExc_ValueError, "previous must be a 32-byte chain hash");
        return NULL;
    }
    check_state st = {.expected = expected, .last_time = last_time, .stored = -1};
    memcpy(st.previous, previous.buf, HASH);
    PyBuffer_Release(&previous);

    PyObject *rows = PySequence_Fast(rows_arg, "rows must be a list or tuple of buffers");
    if (rows == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(rows);
    PyObject *result = NULL, *leaves = NULL;
    Py_buffer *views = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(Py_buffer));
    Py_ssize_t held = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (views == NULL || ctx == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (; held < n; held++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(rows, held), &views[held], PyBUF_SIMPLE) < 0) {
            goto done;
        }
    }
    leaves = PyBytes_FromStringAndSize(NULL, n * HASH);
    if (leaves == NULL) {
        goto done;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(leaves);

    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int passed = check_row(ctx, views[i].buf, views[i].len, &st, out + st.kept * HASH);
        if (passed < 0) {
            break;
        }
        st.kept += passed;
    }
    Py_END_ALLOW_THREADS

    if (st.openssl_error) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL failed to compute SHA-256");
        goto done;
    }
    if (st.overflow) {
        PyErr_SetString(PyExc_OverflowError, "a leaf index past the largest bigint");
        goto done;
    }
    if (st.kept < n && _PyBytes_Resize(&leaves, st.kept * HASH) < 0) {
        goto done; /* leaves is NULL and freed */
    }
    PyObject *failure;
    if (st.failure == FAILURE_NONE) {
        failure = Py_NewRef(Py_None);
    }
    else {
        failure = Py_BuildValue("(LiL)", (long long)st.failed_at, st.failure, (long long)st.stored);
        if (failure == NULL) {
            goto done;
        }
    }
    result = Py_BuildValue("(Ly#LON)", (long long)st.expected, (const char *)st.previous, (Py_ssize_t)HASH,
                           (long long)st.last_time, leaves, failure);
done:
    Py_XDECREF(leaves);
    for (Py_ssize_t i = 0; i < held; i++) {
        PyBuffer_Release(&views[i]);
    }
    PyMem_Free(views);
    EVP_MD_CTX_free(ctx);
    Py_DECREF(rows);
    return result;
}

static PyObject *
merkle_level(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer hashes;
    if (!PyArg_ParseTuple(args, "y*:merkle_level", &hashes)) {
        return NULL;
    }
    PyObject *result = NULL;
    EVP_MD_CTX *ctx = NULL;
    if (hashes.len % HASH) {
        PyErr_SetString(PyExc_ValueError, "hashes must be concatenated 32-byte hashes");
        goto done;
    }
    Py_ssize_t pairs = hashes.len / (2 * HASH);
    result = PyBytes_FromStringAndSize(NULL, pairs * HASH);
    ctx = EVP_MD_CTX_new();
    if (result == NULL || ctx == NULL) {
        Py_CLEAR(result);
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        goto done;
    }
    const unsigned char *in = hashes.buf;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; ok && i < pairs; i++) {
        ok = digest_init(ctx) && EVP_DigestUpdate(ctx, node_prefix, 1)
             && EVP_DigestUpdate(ctx, in + i * 2 * HASH, 2 * HASH) && EVP_DigestFinal_ex(ctx, out + i * HASH, NULL);
    }
    Py_END_ALLOW_THREADS
    if (!ok) {
        Py_CLEAR(result);
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL failed to compute SHA-256");
    }
done:
    EVP_MD_CTX_free(ctx);
    PyBuffer_Release(&hashes);
    return result;
}

static PyMethodDef methods[] = {
    {"check_rows", check_rows, METH_VARARGS,
     "check_rows(rows, expected, previous, last_time) -> (expected, previous, last_time, leaves, failure)\n\n"
     "Check rows of the verifier's binary COPY as ledger.log.rows's pure-Python loop does."},
    {"merkle_level", merkle_level, METH_VARARGS,
     "merkle_level(hashes) -> bytes\n\nThe RFC 9162 parents of consecutive pairs of concatenated 32-byte hashes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "ledger.log._speedups",
    "The verifier's hot loop in C (SHA-256 from OpenSSL); ledger.log.rows and ledger.log.merkle hold the reference.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (sha256_md == NULL) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
        sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
#else
        sha256_md = (EVP_MD *)EVP_sha256();
#endif
        if (sha256_md == NULL) {
            PyErr_SetString(PyExc_ImportError, "OpenSSL has no SHA-256");
            return NULL;
        }
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "FAILURE_MALFORMED", FAILURE_MALFORMED) < 0
        || PyModule_AddIntConstant(module, "FAILURE_INDEX", FAILURE_INDEX) < 0
        || PyModule_AddIntConstant(module, "FAILURE_LEAF", FAILURE_LEAF) < 0
        || PyModule_AddIntConstant(module, "FAILURE_CHAIN", FAILURE_CHAIN) < 0
        || PyModule_AddIntConstant(module, "FAILURE_TIME", FAILURE_TIME) < 0
        || PyModule_AddStringConstant(module, "OPENSSL_VERSION", OpenSSL_version(OPENSSL_VERSION)) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

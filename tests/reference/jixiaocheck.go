// jixiaocheck: an independent client of a Jixiao Ledger, written against the reference implementation of signed
// notes and transparency-log proofs (golang.org/x/mod/sumdb/note and sumdb/tlog, as Debian ships them), sharing no
// code with the ledger. It fetches from a live service:
//
//  1. every signed checkpoint, and opens each with note.Open and the verifier key given (the key's name must be the
//     checkpoint's origin line, as C2SP tlog-checkpoint asks);
//  2. every leaf's stored bytes, recomputing its canonical encoding and its RFC 9162 leaf hash (tlog.RecordHash);
//  3. an inclusion proof of every leaf in the latest checkpoint's tree (tlog.CheckRecord);
//  4. a consistency proof from every earlier checkpoint to the latest (tlog.CheckTree).
//
// Usage: jixiaocheck <base URL> <verifier key>; JIXIAO_TOKEN: an auditor's bearer token (the leaves' bytes).
// Prints one line of counts and exits 0 when everything holds; otherwise prints what failed and exits 1.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var base, token string

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "jixiaocheck: "+format+"\n", args...)
	os.Exit(1)
}

func get(path string, into interface{}) {
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		fail("%s: %v", path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail("%s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fail("%s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		fail("%s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		fail("%s: %v", path, err)
	}
}

type checkpoint struct {
	size int64
	root tlog.Hash
}

// open verifies a signed note and parses its checkpoint body: origin, decimal size, base64 root hash.
func open(text string, verifiers note.Verifiers, keyName string) checkpoint {
	n, err := note.Open([]byte(text), verifiers)
	if err != nil {
		fail("note does not verify: %v\n%s", err, text)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint body has %d lines: %q", len(lines), n.Text)
	}
	if lines[0] != keyName {
		fail("the checkpoint's origin %q is not its key's name %q", lines[0], keyName)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		fail("checkpoint size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != 32 {
		fail("checkpoint root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	return checkpoint{size, root}
}

func hexHash(s string) tlog.Hash {
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) != 32 {
		fail("hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func hexHashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hexHash(s)
	}
	return out
}

// canonical is the leaf's encoding (ledger/log/integrity.py's docstring, re-implemented from it):
// "JXL1" || uuid(16) || int64_be(version) || uint32_be(len(topic)) || topic || uint32_be(len(state)) || state
func canonical(id string, version int64, topic string, state []byte) []byte {
	uuid, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(uuid) != 16 {
		fail("originator id %q", id)
	}
	var b bytes.Buffer
	b.WriteString("JXL1")
	b.Write(uuid)
	binary.Write(&b, binary.BigEndian, version)
	binary.Write(&b, binary.BigEndian, uint32(len(topic)))
	b.WriteString(topic)
	binary.Write(&b, binary.BigEndian, uint32(len(state)))
	b.Write(state)
	return b.Bytes()
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: jixiaocheck <base URL> <verifier key>")
	}
	base, token = strings.TrimRight(os.Args[1], "/"), os.Getenv("JIXIAO_TOKEN")
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("verifier key: %v", err)
	}
	verifiers := note.VerifierList(verifier)

	var listed []struct {
		Note string `json:"note"`
	}
	get("/log/checkpoints?limit=1000", &listed)
	if len(listed) == 0 {
		fail("the log has no checkpoint")
	}
	var checkpoints []checkpoint
	for _, item := range listed {
		checkpoints = append(checkpoints, open(item.Note, verifiers, verifier.Name()))
	}
	latest := checkpoints[len(checkpoints)-1]

	for i := int64(0); i < latest.size; i++ {
		var leaf struct {
			OriginatorID      string `json:"originator_id"`
			OriginatorVersion int64  `json:"originator_version"`
			Topic             string `json:"topic"`
			State             string `json:"state"`
		}
		get(fmt.Sprintf("/log/leaves/%d", i), &leaf)
		state, err := base64.StdEncoding.DecodeString(leaf.State)
		if err != nil {
			fail("leaf %d: state: %v", i, err)
		}
		hash := tlog.RecordHash(canonical(leaf.OriginatorID, leaf.OriginatorVersion, leaf.Topic, state))
		var proof struct {
			LeafHash string   `json:"leaf_hash"`
			Proof    []string `json:"proof"`
		}
		get(fmt.Sprintf("/log/proofs/inclusion?leaf_index=%d&tree_size=%d", i, latest.size), &proof)
		if hexHash(proof.LeafHash) != hash {
			fail("leaf %d: its bytes hash to %s, the log says %s", i, hex.EncodeToString(hash[:]), proof.LeafHash)
		}
		if err := tlog.CheckRecord(hexHashes(proof.Proof), latest.size, latest.root, i, hash); err != nil {
			fail("leaf %d: inclusion in the tree of size %d: %v", i, latest.size, err)
		}
	}

	consistent := 0
	for _, earlier := range checkpoints[:len(checkpoints)-1] {
		if earlier.size == 0 || earlier.size == latest.size {
			continue
		}
		var proof struct {
			Proof []string `json:"proof"`
		}
		get(fmt.Sprintf("/log/proofs/consistency?first=%d&second=%d", earlier.size, latest.size), &proof)
		if err := tlog.CheckTree(hexHashes(proof.Proof), latest.size, latest.root, earlier.size, earlier.root); err != nil {
			fail("the tree of size %d does not extend that of size %d: %v", latest.size, earlier.size, err)
		}
		consistent++
	}
	sum := sha256.Sum256([]byte(listed[len(listed)-1].Note))
	fmt.Printf("ok: %d checkpoints opened, %d leaves included in the tree of size %d, %d consistency proofs (latest note %x)\n",
		len(checkpoints), latest.size, latest.size, consistent, sum[:4])
}

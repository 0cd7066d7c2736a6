package pathtmpl

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		seg  string
		want Kind
	}{
		// Integers and numeric ids.
		{"42", KindNumber},
		{"0", KindNumber},
		{"1234567890123456789", KindNumber},
		{"123-456-789", KindNumber},
		{"2024_0001", KindNumber},
		// UUIDs, any case.
		{"1929186d-8b67-4163-a208-de52a41f7301", KindUUID},
		{"1929186D-8B67-4163-A208-DE52A41F7301", KindUUID},
		{"00000000-0000-0000-0000-000000000000", KindUUID},
		// Hex, hashes, ObjectIds, Docker ids.
		{"507f1f77bcf86cd799439011", KindObjectID},
		{"d41d8cd98f00b204e9800998ecf8427e", KindHash},                                 // md5
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", KindHash},                         // sha1
		{"cc4fc8e49cadbb8bc41437dc2f9979a72293eabc3f0ea5ce48b77f43cb1f1d5e", KindHash}, // sha256, Docker id
		{"CC4FC8E49CADBB8BC41437DC2F9979A72293EABC3F0EA5CE48B77F43CB1F1D5E", KindHash}, // upper case
		{"a1b2c3d4e5f6", KindHex},                                                      // Docker short id
		{"3f1e2a9b", KindHex},                                                          // 8 hex with digits
		{"deadbeef", KindWord},                                                         // hex letters only: a word
		{"facade", KindWord},
		// Dates and date-times.
		{"2024-01-31", KindDate},
		{"20240131", KindDate},
		{"2024-01", KindDate},
		{"2024-01-31T10:00:00Z", KindDate},
		{"2024-01-31T10%3A00%3A00Z", KindDate},
		{"20241331", KindNumber}, // month 13: a number
		// E-mail and IP addresses.
		{"john.doe@example.com", KindEmail},
		{"john.doe%40example.com", KindEmail},
		{"a+tag@mail.co.uk", KindEmail},
		{"10.0.0.1", KindAddress},
		{"192.168.100.254", KindAddress},
		{"2001:db8::1", KindAddress},
		{"fe80%3A%3A1", KindAddress},
		// Opaque tokens.
		{"8f3aK2xQ", KindToken},
		{"tr_8f3aK2", KindToken},
		{"cus_NffrFeUfNV2Hib", KindToken},
		{"cus_NffrFeUfNVHib", KindToken}, // prefixed, no digit
		{"obj_wzkdfwvopW5w", KindToken},
		{"pi_3MtwBwLkdIwHu7ix28a3tqPa", KindToken},
		{"sk_test_4eC39HqLyjWDarjtT1zdp7dc", KindToken},
		{"inv_00012345", KindToken},
		{"tiSTSUzh4BwtvYSLWPsqu9", KindToken},      // crAPI post id
		{"01ARZ3NDEKTSV4RRFFQ69G5FAV", KindToken},  // ULID
		{"0ujtsYcgvSTl8PAuAdqWYSMnLOv", KindToken}, // KSUID
		{"dGhpcyBpcyBhIHRva2Vu", KindToken},        // base64url
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl", KindToken},
		{"a1b2c3", KindToken},
		{"NffrFeUfNVHibQ", KindToken}, // mixed case like base62
		{strings.Repeat("x", 129), KindToken},
		// Fixed words: API structure, versions, technical tokens.
		{"", KindFixed},
		{"api", KindFixed},
		{"API", KindFixed},
		{"v1", KindFixed},
		{"v2", KindFixed},
		{"V3", KindFixed},
		{"v1.41", KindFixed},
		{"v2.7", KindFixed},
		{"v4.0", KindFixed},
		{"v2beta1", KindFixed},
		{"v1alpha", KindFixed},
		{"1.0", KindFixed},
		{"2.7.1", KindFixed},
		{"users", KindFixed},
		{"me", KindFixed},
		{"self", KindFixed},
		{"search", KindFixed},
		{"login", KindFixed},
		{"logout", KindFixed},
		{"auth", KindFixed},
		{"health", KindFixed},
		{"status", KindFixed},
		{"settings", KindFixed},
		{"stats", KindFixed},
		{"oauth2", KindFixed},
		{"s3", KindFixed},
		{"utf8", KindFixed},
		{"md5", KindFixed},
		{"sha256", KindFixed},
		{"x86_64", KindFixed},
		{"ipv4", KindFixed},
		{"ipv6", KindFixed},
		{"http2", KindFixed},
		{"json", KindFixed},
		{"_ping", KindFixed},
		{"_search", KindFixed},
		{"_debug", KindFixed},
		{"$batch", KindFixed},
		{".well-known", KindFixed},
		// Plain words: literal until evidence.
		{"alice", KindWord},
		{"john.doe42", KindWord},
		{"name1", KindWord},
		{"user42", KindWord},
		{"bookTitle77", KindWord},
		{"star-wars", KindWord},
		{"star-wars-iv", KindWord},
		{"my-post-2024", KindWord},
		{"movies", KindWord},
		{"SKU-12345", KindWord},
		{"ubuntu:22.04", KindWord},
		{"index.html.bak", KindWord},
		{"return_order", KindWord},
		{"user_Settings", KindWord},
		{"convert_video", KindWord},
		{"check-otp", KindWord},
		{"login-with-token", KindWord},
		{"displayed-attributes", KindWord},
		{"getUserProfile", KindWord},
		{"covid19", KindWord},
		{"covid19-vaccine", KindWord},
		{"h264-1080p", KindWord},
		{"web3auth", KindWord},
		{"python3", KindWord},
		{"k8s-cluster", KindWord},
		{"John%20Doe", KindWord},
		{"tr_8f", KindWord},
		{"1.2.3.4.5", KindNumber},
	}
	for _, tt := range tests {
		t.Run(tt.seg, func(t *testing.T) {
			if got := Classify(tt.seg); got != tt.want {
				t.Errorf("Classify(%q) = %v, want %v", tt.seg, got, tt.want)
			}
		})
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		k     Kind
		name  string
		typed bool
	}{
		{KindWord, "word", false},
		{KindFixed, "fixed", false},
		{KindNumber, "number", true},
		{KindUUID, "uuid", true},
		{KindObjectID, "objectid", true},
		{KindHash, "hash", true},
		{KindHex, "hex", true},
		{KindDate, "date", true},
		{KindEmail, "email", true},
		{KindAddress, "address", true},
		{KindToken, "token", true},
		{Kind(200), "unknown", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.k.String() != tt.name || tt.k.Typed() != tt.typed {
				t.Errorf("%d: String %q Typed %v, want %q %v", tt.k, tt.k.String(), tt.k.Typed(), tt.name, tt.typed)
			}
		})
	}
}

func TestClassifyAllocs(t *testing.T) {
	segs := []string{"alice", "API", "V2", "cus_NffrFeUfNV2Hib", "1929186d-8b67-4163-a208-de52a41f7301", "john.doe%40example.com", "Settings"}
	if n := testing.AllocsPerRun(100, func() {
		for _, s := range segs {
			Classify(s)
		}
	}); n != 0 {
		t.Fatalf("Classify allocates %v times per run", n)
	}
}

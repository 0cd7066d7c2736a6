package pathtmpl

import "testing"

func TestSingular(t *testing.T) {
	tests := []struct{ in, want string }{
		{"users", "user"},
		{"categories", "category"},
		{"activities", "activity"},
		{"opportunities", "opportunity"},
		{"addresses", "address"},
		{"classes", "class"},
		{"indexes", "index"},
		{"boxes", "box"},
		{"taxes", "tax"},
		{"indices", "index"},
		{"matches", "match"},
		{"batches", "batch"},
		{"branches", "branch"},
		{"wishes", "wish"},
		{"caches", "cache"},
		{"statuses", "status"},
		{"status", "status"},
		{"aliases", "alias"},
		{"buses", "bus"},
		{"analyses", "analysis"},
		{"databases", "database"},
		{"responses", "response"},
		{"licenses", "license"},
		{"movies", "movie"},
		{"cookies", "cookie"},
		{"people", "person"},
		{"children", "child"},
		{"women", "woman"},
		{"leaves", "leaf"},
		{"archives", "archive"},
		{"photos", "photo"},
		{"videos", "video"},
		{"heroes", "hero"},
		{"series", "series"},
		{"news", "news"},
		{"data", "data"},
		{"metadata", "metadata"},
		{"access", "access"},
		{"analysis", "analysis"},
		{"user", "user"},
		{"me", "me"},
		{"orderStatuses", "orderStatus"},
		{"userProfiles", "userProfile"},
		{"USERS", "USER"},
		{"CATEGORIES", "CATEGORY"},
		{"copies", "copy"},
		{"supplies", "supply"},
		{"specimen", "specimen"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Singular(tt.in); got != tt.want {
				t.Errorf("Singular(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParamName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"users", "userId"},
		{"indexes", "indexId"},
		{"categories", "categoryId"},
		{"addresses", "addressId"},
		{"status", "statusId"},
		{"custom-objects", "customObjectId"},
		{"custom_object_schemas", "customObjectSchemaId"},
		{"containers", "containerId"},
		{"Users", "userId"},
		{"ubuntu:22.04", "ubuntu2204Id"},
		{"", "id"},
		{"--", "id"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParamName(tt.in); got != tt.want {
				t.Errorf("ParamName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestUniqueName(t *testing.T) {
	tests := []struct {
		name string
		used []string
		want string
	}{
		{"id", nil, "id"},
		{"id", []string{"id"}, "id2"},
		{"id", []string{"id", "id2"}, "id3"},
		{"userId", []string{"id"}, "userId"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := uniqueName(tt.name, tt.used); got != tt.want {
				t.Errorf("uniqueName(%q, %q) = %q, want %q", tt.name, tt.used, got, tt.want)
			}
		})
	}
}

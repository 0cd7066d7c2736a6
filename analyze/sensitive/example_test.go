package sensitive_test

import (
	"fmt"

	"github.com/apitap/apitap/analyze/sensitive"
	"github.com/apitap/apitap/reassembly"
)

func ExampleValue() {
	for _, v := range []string{"jane.doe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "2024-01-15", "550e8400-e29b-41d4-a716-446655440000"} {
		c := sensitive.Value(v)
		fmt.Printf("%-38q %-8v %q\n", v, c, sensitive.Redact(c, v))
	}
	// Output:
	// "jane.doe@example.com"                 email    "user@example.com"
	// "+44 20 7946 0958"                     phone    "+15555550100"
	// "4111 1111 1111 1111"                  card     "4111111111111111"
	// "2024-01-15"                                    "2024-01-15"
	// "550e8400-e29b-41d4-a716-446655440000"          "550e8400-e29b-41d4-a716-446655440000"
}

func ExampleField() {
	fmt.Println(sensitive.Field("client_secret", "abc"))
	fmt.Println(sensitive.Field("ssn", "123456789"))
	fmt.Println(sensitive.Field("next_page_token", "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA"))
	// Output:
	// password
	// national-id
	//
}

func ExampleCredentials() {
	headers := []reassembly.Header{
		{Name: "Authorization", Value: "Basic YWxpY2U6d29uZGVybGFuZA=="},
		{Name: "Cookie", Value: "theme=dark; JSESSIONID=1A2B3C4D5E6F"},
	}
	for _, c := range sensitive.Credentials(nil, headers, "api_key=k_123&page=2") {
		fmt.Printf("%s %q\n", c.Scheme, c.Name)
	}
	// Output:
	// basic ""
	// session-cookie "JSESSIONID"
	// apikey-query "api_key"
}

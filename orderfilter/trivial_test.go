package orderfilter

import "testing"

func TestIsTrivial(t *testing.T) {
	for schema, want := range map[string]bool{
		`{}`:   true,
		`true`: true,
		`{"title":"anything","description":"goes","$comment":"x"}`: true,
		`false`:                         false,
		`{"required":["makerAddress"]}`: false,
		`{"$ref":"/signedOrder"}`:       false,
		`{"title":"t","not":{"required":["noSuchField"]}}`: false,
	} {
		f, err := New(testChainID, schema, testExchange)
		if err != nil {
			t.Fatalf("%s: %v", schema, err)
		}
		if got := f.IsTrivial(); got != want {
			t.Errorf("IsTrivial(%s) = %v, want %v", schema, got, want)
		}
	}
	if (*Filter)(nil).IsTrivial() || new(Filter).IsTrivial() {
		t.Error("a nil or zero Filter must not be trivial: it cannot match anything")
	}
}

package handshake

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws/frame/deflate"
)

func TestParseExtensions(t *testing.T) {
	pmd := func(ps ...Param) Extension { return Extension{Name: "permessage-deflate", Params: ps} }
	tests := []struct {
		name string
		in   string
		want []Extension
		err  bool
	}{
		{"9.1/single token", "foo", []Extension{{Name: "foo"}}, false},
		{"9.1/empty header", "", nil, false},
		{"9.1/params with and without value", "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
			[]Extension{pmd(Param{"client_max_window_bits", ""}, Param{"server_max_window_bits", "10"})}, false},
		{"9.1/quoted value", `permessage-deflate; server_max_window_bits="10"`,
			[]Extension{pmd(Param{"server_max_window_bits", "10"})}, false},
		{"9.1/quoted value with escape", `x; a="b\c"`, []Extension{{Name: "x", Params: []Param{{"a", "bc"}}}}, false},
		{"9.1/several offers, repeated name as alternatives", "permessage-deflate; server_max_window_bits=10, permessage-deflate, x-foo",
			[]Extension{pmd(Param{"server_max_window_bits", "10"}), pmd(), {Name: "x-foo"}}, false},
		{"9.1/whitespace around separators", " a ;b = 1 ,\tc\t", []Extension{{Name: "a", Params: []Param{{"b", "1"}}}, {Name: "c"}}, false},
		{"9.1/empty list elements", "a,,b,", []Extension{{Name: "a"}, {Name: "b"}}, false},
		{"9.1/missing name", "; a", nil, true},
		{"9.1/missing param name", "a; =1", nil, true},
		{"9.1/empty value", "a; b=", nil, true},
		{"9.1/quoted value not a token", `a; b="c d"`, nil, true},
		{"9.1/quoted empty", `a; b=""`, nil, true},
		{"9.1/unterminated quote", `a; b="c`, nil, true},
		{"9.1/junk after name", "a b", nil, true},
		{"9.1/non-token character", "a@b", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions(nil, tt.in)
			if tt.err {
				require.ErrorIs(t, err, ErrExtensions)
				require.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			again, err := ParseExtensions(nil, FormatExtensions(got))
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestExtensionFormat(t *testing.T) {
	e := Extension{Name: "x", Params: []Param{{"a", ""}, {"b", "1"}, {"c", `q"z`}}}
	require.Equal(t, `x; a; b=1; c="q\"z"`, e.String())
	v, ok := e.Param("B")
	require.True(t, ok)
	require.Equal(t, "1", v)
	_, ok = e.Param("d")
	require.False(t, ok)
}

func TestDeflateNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		cfg    PerMessageDeflate
		offers string
		want   string // "" means declined
		params deflate.Params
	}{
		{"7/plain offer", PerMessageDeflate{}, "permessage-deflate", "permessage-deflate", deflate.Params{}},
		{"7.1.1.1/server_no_context_takeover echoed", PerMessageDeflate{}, "permessage-deflate; server_no_context_takeover",
			"permessage-deflate; server_no_context_takeover", deflate.Params{ServerNoContextTakeover: true}},
		{"7.1.1.2/client_no_context_takeover echoed", PerMessageDeflate{}, "permessage-deflate; client_no_context_takeover",
			"permessage-deflate; client_no_context_takeover", deflate.Params{ClientNoContextTakeover: true}},
		{"7.1.1/configured no context takeover", PerMessageDeflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, "permessage-deflate",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover", deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"7.1.2.1/server_max_window_bits=15 accepted", PerMessageDeflate{}, "permessage-deflate; server_max_window_bits=15",
			"permessage-deflate; server_max_window_bits=15", deflate.Params{ServerMaxWindowBits: 15}},
		{"7.1.2.1/server_max_window_bits<15 accepted with the same value (first offer wins)", PerMessageDeflate{}, "permessage-deflate; server_max_window_bits=10, permessage-deflate",
			"permessage-deflate; server_max_window_bits=10", deflate.Params{ServerMaxWindowBits: 10}},
		{"7.1.2.1/server_max_window_bits=8 accepted (Autobahn 13.3)", PerMessageDeflate{}, "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=8",
			"permessage-deflate; client_no_context_takeover; server_max_window_bits=8", deflate.Params{ClientNoContextTakeover: true, ServerMaxWindowBits: 8}},
		{"7.1.2.1/server_max_window_bits without value declined", PerMessageDeflate{}, "permessage-deflate; server_max_window_bits", "", deflate.Params{}},
		{"7.1.2.2/client_max_window_bits without value, not configured", PerMessageDeflate{}, "permessage-deflate; client_max_window_bits",
			"permessage-deflate", deflate.Params{}},
		{"7.1.2.2/client_max_window_bits limited when configured", PerMessageDeflate{ClientMaxWindowBits: 12}, "permessage-deflate; client_max_window_bits",
			"permessage-deflate; client_max_window_bits=12", deflate.Params{ClientMaxWindowBits: 12}},
		{"7.1.2.2/client_max_window_bits offered value smaller", PerMessageDeflate{ClientMaxWindowBits: 12}, "permessage-deflate; client_max_window_bits=9",
			"permessage-deflate; client_max_window_bits=9", deflate.Params{ClientMaxWindowBits: 9}},
		{"7.1.2.2/client_max_window_bits not answered unless offered", PerMessageDeflate{ClientMaxWindowBits: 12}, "permessage-deflate",
			"permessage-deflate", deflate.Params{}},
		{"7.1/duplicate parameter declined", PerMessageDeflate{}, "permessage-deflate; client_no_context_takeover; client_no_context_takeover", "", deflate.Params{}},
		{"7.1/unknown parameter declined", PerMessageDeflate{}, "permessage-deflate; foo", "", deflate.Params{}},
		{"7.1/value on no_context_takeover declined", PerMessageDeflate{}, "permessage-deflate; server_no_context_takeover=1", "", deflate.Params{}},
		{"7.1.2/window bits out of range declined", PerMessageDeflate{}, "permessage-deflate; client_max_window_bits=16", "", deflate.Params{}},
		{"7.1.2/leading zero declined", PerMessageDeflate{}, "permessage-deflate; client_max_window_bits=09", "", deflate.Params{}},
		{"7.1/bad first offer, good second", PerMessageDeflate{}, "permessage-deflate; foo, permessage-deflate; client_no_context_takeover",
			"permessage-deflate; client_no_context_takeover", deflate.Params{ClientNoContextTakeover: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offers, err := ParseExtensions(nil, tt.offers)
			require.NoError(t, err)
			resp, ok := tt.cfg.Negotiate(offers)
			if tt.want == "" {
				require.False(t, ok, "accepted %s", resp)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, resp.String())
			p, err := ParseDeflateParams(resp)
			require.NoError(t, err)
			require.Equal(t, tt.params, p)
		})
	}
}

func TestDeflateVerify(t *testing.T) {
	tests := []struct {
		name  string
		cfg   PerMessageDeflate
		offer string
		resp  string
		ok    bool
	}{
		{"7/plain", PerMessageDeflate{}, "permessage-deflate", "permessage-deflate", true},
		{"7.1.2.1/server_max_window_bits unasked is legal", PerMessageDeflate{}, "permessage-deflate", "permessage-deflate; server_max_window_bits=10", true},
		{"7.1.2.2/client_max_window_bits not offered", PerMessageDeflate{}, "permessage-deflate", "permessage-deflate; client_max_window_bits=10", false},
		{"7.1.2.2/client_max_window_bits offered, limited", PerMessageDeflate{ClientMaxWindowBits: 15}, "permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=10", true},
		{"7.1.2.2/client_max_window_bits without value in response", PerMessageDeflate{ClientMaxWindowBits: 15}, "permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits", false},
		{"7.1.2/window bits 7", PerMessageDeflate{}, "permessage-deflate", "permessage-deflate; server_max_window_bits=7", false},
		{"7.1/unknown parameter", PerMessageDeflate{}, "permessage-deflate", "permessage-deflate; x", false},
		{"7.1/duplicate parameter", PerMessageDeflate{}, "permessage-deflate", "permessage-deflate; client_no_context_takeover; client_no_context_takeover", false},
		{"7.1.1.1/server_no_context_takeover requested but missing", PerMessageDeflate{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover", "permessage-deflate", false},
		{"7.1.1.2/client_no_context_takeover unasked is legal", PerMessageDeflate{}, "permessage-deflate", "permessage-deflate; client_no_context_takeover", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.offer, FormatExtensions(tt.cfg.Offers()))
			resp, err := ParseExtensions(nil, tt.resp)
			require.NoError(t, err)
			err = verifyExtensions([]Negotiator{&tt.cfg}, resp)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrExtensionParams)
			}
		})
	}
}

func TestVerifyExtensionsNotOffered(t *testing.T) {
	resp, err := ParseExtensions(nil, "x-unknown")
	require.NoError(t, err)
	require.ErrorIs(t, verifyExtensions([]Negotiator{&PerMessageDeflate{}}, resp), ErrExtensionNotOffered)
	resp, err = ParseExtensions(nil, "permessage-deflate, permessage-deflate")
	require.NoError(t, err)
	require.ErrorIs(t, verifyExtensions([]Negotiator{&PerMessageDeflate{}}, resp), ErrExtensionParams)
}

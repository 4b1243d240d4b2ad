package mcexec

import "github.com/gomck/gomck/delegator/control"

// The link's messages travel in control's binary encoding: a fork sends
// a job down, and an idle notice comes up once the proxy is done.

// Kinds of the link's messages (control.NewEncoder).
const (
	kindForkJob    = 'J'
	kindProxyState = 'S'
)

// AppendBinary encodes j for the link.
func (j forkJob) AppendBinary(b []byte) ([]byte, error) {
	e := control.NewEncoder(b, kindForkJob)
	e.Uint(j.Token)
	e.Int(j.PGID)
	e.Str(j.Cwd)
	e.Int(j.Umask)
	control.EncodeSlice(&e, j.FDs, (*control.Encoder).Int)
	control.EncodeSlice(&e, j.CloExec, (*control.Encoder).Int)
	e.Bool(j.More)
	e.Bool(j.Profile.Enabled)
	e.Str(j.Profile.JSONFile)
	return e, nil
}

// UnmarshalBinary decodes what AppendBinary encoded.
func (j *forkJob) UnmarshalBinary(b []byte) error {
	d := control.NewDecoder(b, kindForkJob)
	m := forkJob{ // fields are read in order: operands evaluate left to right
		Token:   d.Uint(),
		PGID:    d.Int(),
		Cwd:     d.Str(),
		Umask:   d.Int(),
		FDs:     control.DecodeSlice(&d, 1, (*control.Decoder).Int),
		CloExec: control.DecodeSlice(&d, 1, (*control.Decoder).Int),
		More:    d.Bool(),
		Profile: Profile{Enabled: d.Bool(), JSONFile: d.Str()},
	}
	return control.Store(&d, j, m, "fork job")
}

// AppendBinary encodes s for the link.
func (s proxyState) AppendBinary(b []byte) ([]byte, error) {
	e := control.NewEncoder(b, kindProxyState)
	e.Bool(s.Idle)
	return e, nil
}

// UnmarshalBinary decodes what AppendBinary encoded.
func (s *proxyState) UnmarshalBinary(b []byte) error {
	d := control.NewDecoder(b, kindProxyState)
	m := proxyState{Idle: d.Bool()}
	return control.Store(&d, s, m, "proxy state")
}

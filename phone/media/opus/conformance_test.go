//go:build cgo

package opus

import (
	"fmt"
	"testing"

	pionopus "github.com/pion/opus"
)

// encodeAll encodes pcm in frames of frame samples with our encoder as a
// far end with fmtp remote would have it configured.
func encodeAll(t testing.TB, pcm []int16, frame int, remote string) [][]byte {
	t.Helper()
	proto := New(DefaultParams)
	c, err := proto.ForCall(remote)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	buf := make([]byte, 1500)
	for i := 0; i+frame <= len(pcm); i += frame {
		n, err := c.Encode(pcm[i:i+frame], buf)
		if err != nil {
			t.Fatalf("encode frame %d: %v", i/frame, err)
		}
		pkts = append(pkts, append([]byte(nil), buf[:n]...))
	}
	return pkts
}

// TestDecodersAgree is the conformance check behind the choice of decoder:
// a tone sweep and speech-like noise, encoded by libopus at the phone's
// settings (SILK, hybrid and CELT modes, by the far end's maxplaybackrate
// and bitrate), decoded by libopus and by pion/opus, compared with the
// input and with each other.
func TestDecodersAgree(t *testing.T) {
	in := testSignal(4 * Rate) // 4 s
	cases := []struct {
		name, remote string
		frame        int
		minSNR       float64 // libopus's output against the input
	}{
		{"fullband 32k 20ms (CELT/hybrid)", "", 960, 8},
		{"wideband 16k 20ms (SILK)", "maxplaybackrate=16000;maxaveragebitrate=16000", 960, 3},
		{"fullband FEC 20ms", "useinbandfec=1", 960, 8},
		{"fullband 10ms", "", 480, 8},
		{"fullband 60ms", "", 2880, 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pkts := encodeAll(t, in, tc.frame, tc.remote)
			t.Logf("modes (RFC 6716 §3.1 TOC): %s", modes(pkts))
			lib := New(DefaultParams)
			pion, err := pionopus.NewDecoderWithOutput(Rate, 1)
			if err != nil {
				t.Fatal(err)
			}
			var outLib, outPion []int16
			pcm := make([]int16, Rate*120/1000)
			for i, p := range pkts {
				n, err := lib.Decode(p, pcm)
				if err != nil {
					t.Fatalf("libopus packet %d: %v", i, err)
				}
				outLib = append(outLib, pcm[:n]...)
				n, err = pion.DecodeToInt16(p, pcm)
				if err != nil {
					t.Fatalf("pion/opus cannot decode packet %d (%d bytes, TOC %#02x) that libopus encoded: %v", i, len(p), p[0], err)
				}
				outPion = append(outPion, pcm[:n]...)
			}
			if len(outLib) != len(outPion) {
				t.Fatalf("libopus gave %d samples, pion/opus %d", len(outLib), len(outPion))
			}
			snrLib, corrLib, lag := compare(in, outLib, 1000)
			snrPion, corrPion, lagPion := compare(in, outPion, 1000)
			snrBoth, corrBoth, _ := compare(outLib, outPion, 0)
			t.Logf("libopus vs input: SNR %.1f dB, r=%.4f, delay %d samples", snrLib, corrLib, lag)
			t.Logf("pion    vs input: SNR %.1f dB, r=%.4f, delay %d samples", snrPion, corrPion, lagPion)
			t.Logf("pion vs libopus:  SNR %.1f dB, r=%.5f", snrBoth, corrBoth)
			if snrLib < tc.minSNR || corrLib < 0.9 {
				t.Errorf("libopus round trip: SNR %.1f dB (want >= %.0f), r=%.3f (want >= 0.9)", snrLib, tc.minSNR, corrLib)
			}
			// Two conforming decoders of one stream differ by rounding
			// (RFC 6716 §6 allows float decoders): they must agree far
			// better than either agrees with the input.
			if corrBoth < 0.99 || snrBoth < snrLib+10 {
				t.Errorf("pion/opus and libopus disagree: SNR %.1f dB, r=%.4f (want r >= 0.99, SNR >= %.1f dB)", snrBoth, corrBoth, snrLib+10)
			}
		})
	}
}

// modes counts the packets per Opus mode, from their TOC byte.
func modes(pkts [][]byte) string {
	var silk, hybrid, celt int
	for _, p := range pkts {
		switch cfg := p[0] >> 3; {
		case cfg < 12:
			silk++
		case cfg < 16:
			hybrid++
		default:
			celt++
		}
	}
	return fmt.Sprintf("SILK %d, hybrid %d, CELT %d", silk, hybrid, celt)
}

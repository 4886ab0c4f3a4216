package sentiment

import "testing"

func TestLexicon(t *testing.T) {
	cases := []struct {
		text, want string
	}{
		{"Thanks, that was really helpful!", Positive},
		{"This is terrible, I want a refund", Negative},
		{"I am not happy with this", Negative},
		{"It doesn't work, totally broken", Negative},
		{"What are your opening hours?", Neutral},
		{"", Neutral},
		{"Not bad at all", Positive},
	}
	for _, c := range cases {
		if got := Label(Lexicon{}.Score(c.text)); got != c.want {
			t.Errorf("%q: %s (score %.2f), want %s", c.text, got, Lexicon{}.Score(c.text), c.want)
		}
	}
}

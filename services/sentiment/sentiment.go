// Package sentiment scores how a visitor feels from what they write. The built-in scorer
// is a small lexicon with negation; it sits behind Scorer so a model can replace it.
package sentiment

import (
	"strings"
	"unicode"
)

// Scorer scores a text from -1 (negative) to 1 (positive); 0 is neutral or unknown.
type Scorer interface {
	Score(text string) float64
}

// Labels of a summarised score.
const (
	Negative = "negative"
	Neutral  = "neutral"
	Positive = "positive"
)

// Label summarises a score: below -0.2 negative, above 0.2 positive, neutral between.
func Label(score float64) string {
	switch {
	case score < -0.2:
		return Negative
	case score > 0.2:
		return Positive
	}
	return Neutral
}

// Lexicon is the built-in scorer.
type Lexicon struct{}

var words = map[string]float64{
	"thanks": 1, "thank": 1, "great": 1, "perfect": 1, "excellent": 1, "awesome": 1, "love": 1, "helpful": 1,
	"good": 0.6, "nice": 0.6, "happy": 0.8, "glad": 0.7, "works": 0.5, "solved": 0.8, "resolved": 0.8, "fast": 0.5,
	"bad": -0.7, "terrible": -1, "awful": -1, "horrible": -1, "angry": -1, "annoyed": -0.8, "useless": -1, "hate": -1,
	"broken": -0.7, "wrong": -0.6, "slow": -0.5, "problem": -0.4, "issue": -0.3, "cancel": -0.5, "refund": -0.5,
	"disappointed": -0.9, "unacceptable": -1, "worst": -1, "never": -0.3, "frustrated": -0.9, "waiting": -0.3,
}

var negations = map[string]bool{"not": true, "no": true, "never": true, "don't": true, "didn't": true, "isn't": true, "doesn't": true, "wasn't": true, "can't": true}

// Score averages the weights of the known words, flipping a word that follows a negation.
func (Lexicon) Score(text string) float64 {
	fields := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	var sum float64
	var n int
	for i, w := range fields {
		v, ok := words[w]
		if !ok || negations[w] {
			continue
		}
		if i > 0 && negations[fields[i-1]] {
			v = -v
		}
		sum += v
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

package demo

import (
	"math/rand/v2"
	"strings"
)

// script is what the people of one business unit say.
type script struct {
	// openers start a visitor's conversation; followUps continue it.
	openers, followUps []string
	// answers are an agent's replies.
	answers []string
	// offline are messages left while nobody is online.
	offline []string
	// page is where the widget runs.
	page string
}

var scripts = map[string]script{
	"sales": {
		openers: []string{
			"Hi! How much is the Pro plan for 20 seats?",
			"Hello, do you offer a discount for non-profits?",
			"Could my team get a demo next week?",
			"Is there a yearly billing option?",
			"We're comparing you with another vendor. What makes you different?",
			"Can I upgrade from the Starter plan in the middle of the month?",
		},
		followUps: []string{
			"How long is the free trial?",
			"Does the price include onboarding?",
			"Can we pay by bank transfer?",
			"Do you have customers in healthcare?",
			"Is there a minimum contract length?",
			"And what are your support hours?",
			"Can we add seats later on?",
		},
		answers: []string{
			"The Pro plan is $12 per seat per month, billed yearly.",
			"Yes, we do: non-profits get 30% off every plan.",
			"Of course, I can book a demo for you. Which day suits you best?",
			"You can switch plans at any time; we prorate the difference.",
			"The trial lasts 14 days and includes every feature.",
			"Onboarding is included from 10 seats up.",
			"Bank transfer is fine for yearly plans.",
			"There is no minimum: plans are monthly unless you choose yearly billing.",
			"Support is open 8am to 8pm on weekdays, and by email on weekends.",
		},
		offline: []string{
			"Please call me back about pricing for 50 seats.",
			"I'd like a quote for our team; my email is below.",
			"Do you resell through partners in Canada?",
		},
		page: "https://www.acme.example/pricing",
	},
	"support": {
		openers: []string{
			"Hi, I can't log in since this morning: it says my password is wrong.",
			"My invoice shows the wrong company address. Can you fix it?",
			"The app crashes when I export a report to PDF.",
			"How do I add a new user to my account?",
			"I didn't receive the confirmation email.",
			"Notifications stopped working on my phone.",
		},
		followUps: []string{
			"I tried that already; it didn't help.",
			"I'm on the latest version, I think.",
			"It's Chrome, on Windows 11.",
			"OK, let me try that now.",
			"Can you also check my second account?",
			"It happens every time, not just once.",
		},
		answers: []string{
			"Sorry about that! Could you reset your password from the login page?",
			"Thanks for the details, let me check your account.",
			"I've corrected the address; the new invoice is on its way.",
			"Could you clear the browser's cache and try again?",
			"You add users under Settings, then Team, then Invite.",
			"I've resent the email; please check your spam folder too.",
			"I've opened a ticket with our engineers; you'll hear from us within a day.",
			"That's a known issue, fixed in the next release. A workaround is to export to CSV.",
		},
		offline: []string{
			"My account is locked, please help.",
			"The export still fails; please email me.",
			"I need a copy of last month's invoice.",
		},
		page: "https://www.acme.example/help",
	},
}

// scriptFor is what a unit's people say; units the demo has no lines for talk support.
func scriptFor(unit string) script {
	if s, ok := scripts[unit]; ok {
		return s
	}
	return scripts["support"]
}

var (
	firstNames = []string{"Emma", "Liam", "Olivia", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Mia", "Hugo", "Yuki", "Amara", "Omar", "Chloe", "Ravi", "Ines"}
	lastNames  = []string{"Smith", "Garcia", "Müller", "Rossi", "Dubois", "Tanaka", "Okafor", "Silva", "Novak", "Khan", "Jensen", "Moreau"}

	greetings = []string{"Hi, this is %s.", "Hello! %s here.", "Hi there, I'm %s."}
	closings  = []string{
		"Is there anything else I can help with? Have a great day!",
		"Glad I could help. Have a nice day!",
		"I'll close this chat now; write again any time.",
	}
	thanks = []string{
		"Thanks a lot, that's all I needed!",
		"Perfect, thank you.",
		"Great, thanks for your help.",
		"OK, thanks. Bye!",
	}
	handOffs = []string{
		"Let me pass you to a colleague who knows this better.",
		"I'm transferring you to the right team; one moment please.",
	}
	comments = map[bool][]string{
		true:  {"Quick and friendly.", "Solved in minutes, thanks!", "Very helpful agent."},
		false: {"Took too long.", "My question was not really answered.", "I had to repeat myself."},
	}
)

// pick is a random element of xs.
func pick(rng *rand.Rand, xs []string) string {
	return xs[rng.IntN(len(xs))]
}

// typed is the first part of text a person has typed so far, cut at a word boundary.
func typed(text string, fraction float64) string {
	n := int(float64(len(text)) * fraction)
	if i := strings.LastIndexByte(text[:n], ' '); i > 0 {
		n = i
	}
	return strings.ToValidUTF8(text[:n], "")
}

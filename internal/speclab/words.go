package speclab

// Vocabularies for realistic values. They are read-only.

var firstNames = []string{
	"james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "david", "elizabeth",
	"william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "carlos", "karen",
	"daniel", "lisa", "matthew", "nancy", "anthony", "sofia", "mark", "emma", "paul", "olivia",
	"steven", "amira", "andrew", "yuki", "kenji", "priya", "arjun", "fatima", "omar", "lena",
	"lukas", "chloe", "mateo", "isabella", "noah", "mia", "liam", "zoe", "elena", "ivan",
}

var lastNames = []string{
	"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez",
	"hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin",
	"lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson",
	"walker", "young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores",
	"mueller", "schmidt", "rossi", "dubois", "tanaka", "kowalski", "novak", "silva", "kim", "patel",
}

var nouns = []string{
	"apple", "river", "mountain", "garden", "engine", "window", "harbor", "forest", "rocket", "planet",
	"castle", "bridge", "island", "desert", "valley", "ocean", "canyon", "meadow", "falcon", "tiger",
	"lantern", "compass", "anchor", "beacon", "summit", "glacier", "prairie", "orchard", "voyage", "signal",
	"market", "ledger", "invoice", "ticket", "parcel", "order", "report", "budget", "project", "sprint",
}

var adjectives = []string{
	"red", "quick", "silent", "golden", "brave", "hidden", "lucky", "bright", "ancient", "frozen",
	"wild", "gentle", "rapid", "bold", "calm", "dark", "electric", "little", "lost", "final",
	"blue", "green", "silver", "secret", "happy", "iron", "crystal", "northern", "eastern", "modern",
}

// titles are slug sources: films, books, songs, product lines.
var titles = []string{
	"star wars iv", "the godfather", "pulp fiction", "the dark knight", "forrest gump", "inception",
	"fight club", "the matrix", "goodfellas", "interstellar", "parasite", "spirited away", "the lion king",
	"back to the future", "gladiator", "alien", "the shining", "casablanca", "jurassic park", "toy story",
	"war and peace", "moby dick", "pride and prejudice", "the great gatsby", "brave new world", "dune",
	"the hobbit", "ulysses", "don quixote", "crime and punishment", "the odyssey", "hamlet", "frankenstein",
	"blade runner", "amelie", "la la land", "the revenant", "mad max fury road", "whiplash", "arrival",
}

var cities = []string{
	"San Francisco", "New York", "London", "Paris", "Berlin", "Tokyo", "Sydney", "Toronto", "Amsterdam", "Madrid",
	"Lisbon", "Dublin", "Austin", "Seattle", "Chicago", "Boston", "Denver", "Singapore", "Stockholm", "Vienna",
}

var countries = []string{"US", "GB", "FR", "DE", "JP", "AU", "CA", "NL", "ES", "PT", "IE", "SG", "SE", "AT", "BR", "IN"}

var companyWords = []string{
	"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
	"Cyberdyne", "Wonka", "Aperture", "Massive Dynamic", "Pied Piper", "Gringotts", "Oscorp", "Monarch",
}

var companySuffixes = []string{"Inc", "LLC", "Ltd", "GmbH", "Corp", "Group", "Labs", "Systems"}

var domains = []string{"example.com", "mail.com", "acme.io", "globex.net", "initech.org", "hooli.xyz", "tempmail.com", "corp.example"}

var streets = []string{"Main St", "Market St", "Elm St", "Oak Avenue", "Sunset Blvd", "Baker Street", "High Street", "Broadway", "Maple Drive", "King Road"}

var currencies = []string{"USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF"}

var languages = []string{"en", "fr", "de", "es", "it", "ja", "pt", "nl"}

var locales = []string{"en-US", "en-GB", "fr-FR", "de-DE", "es-ES", "ja-JP", "pt-BR", "nl-NL"}

var colors = []string{"red", "green", "blue", "orange", "purple", "black", "white", "teal", "yellow", "gray"}

var sentences = []string{
	"Thanks for reaching out, we will get back to you shortly.",
	"The quarterly report is ready for review.",
	"Customer asked for a follow-up call next week.",
	"Shipment delayed due to weather conditions.",
	"Please confirm the meeting time.",
	"Renewal discussed, pricing to be finalised.",
	"My car has engine trouble and I need urgent help.",
	"Great product, fast delivery, would buy again.",
	"The request was processed successfully.",
	"Follow up with the legal team about the contract.",
	"Updated the billing address as requested.",
	"Intro call went well, sending proposal tomorrow.",
}

// indexWords name search indexes, collections, buckets and other named
// resources whose identifiers are plain words.
var indexWords = []string{
	"movies", "books", "products", "users", "orders", "songs", "articles", "recipes", "restaurants", "hotels",
	"customers", "tickets", "events", "reviews", "listings", "courses", "podcasts", "games", "cars", "jobs",
}

var userAgents = []string{
	"python-requests/2.31.0",
	"okhttp/4.12.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"axios/1.6.8",
	"curl/8.5.0",
	"PostmanRuntime/7.37.3",
	"Go-http-client/1.1",
	"Apache-HttpClient/4.5.14 (Java/17.0.10)",
}

"""Baseball or hockey: OpenAI Cookbook's fine-tuned classifier set-up, on posts written here.

The Cookbook fine-tunes on 20 Newsgroups posts (rec.sport.baseball / rec.sport.hockey):
prompt = the post + "\\n\\n###\\n\\n", completion = " baseball" or " hockey". The posts here are
made from sentence patterns and sport words. The held-out posts share neither with the
training posts: other sentence patterns, other teams, players' positions and terms (the
`HELD_OUT_*` lists hold no content word of the `TRAIN_*` lists), so a model that only
memorizes the training wording cannot label them.
"""

from __future__ import annotations

import random

SEPARATOR = "\n\n###\n\n"
LABELS = {"baseball": " baseball", "hockey": " hockey"}

TRAIN_TERMS = {
    "baseball": {
        "team": ["the Yankees", "the Red Sox", "the Dodgers", "the Giants", "the Braves"],
        "player": ["pitcher", "batter", "closer", "outfielder"],
        "play": ["a home run", "a strikeout", "a double play", "a stolen base", "a walk-off single"],
        "place": ["the mound", "the bleachers", "the ballpark"],
        "stat": ["his ERA", "his RBI count", "the pitch count"],
    },
    "hockey": {
        "team": ["the Bruins", "the Maple Leafs", "the Rangers", "the Flyers", "the Oilers"],
        "player": ["goalie", "winger", "centre", "enforcer"],
        "play": ["a slapshot goal", "a power play goal", "a glove save", "a breakaway", "a wraparound"],
        "place": ["the rink", "the crease", "the penalty box"],
        "stat": ["his save percentage", "his plus-minus", "the shots on goal"],
    },
}

HELD_OUT_TERMS = {
    "baseball": {
        "team": ["the Cubs", "the Mets", "the Cardinals", "the Orioles"],
        "player": ["shortstop", "catcher", "slugger", "lefty reliever"],
        "play": ["a grand slam", "a curveball for strike three", "a bunt", "a triple to the gap"],
        "place": ["the dugout", "the warning track", "the bullpen"],
        "stat": ["his batting average", "the innings he pitched"],
    },
    "hockey": {
        "team": ["the Penguins", "the Red Wings", "the Canadiens", "the Blackhawks"],
        "player": ["defenseman", "netminder", "left wing", "rookie forward"],
        "play": ["a one-timer from the point", "a shootout winner", "a hat trick on the ice", "a hip check"],
        "place": ["the blue line", "the faceoff circle", "the boards"],
        "stat": ["his goals against average", "the penalty minutes"],
    },
}

TRAIN_PATTERNS = [
    "Did anyone see {team} last night? The {player} made {play} and the crowd at {place} went wild.",
    "I think {team} need a new {player}. {stat} has been terrible all season.",
    "Question for the group: who was the best {player} of the eighties? I still remember {play} near {place}.",
    "{team} traded their {player} yesterday. I hope we still get {play} or two from the new guy.",
    "My son wants to be a {player}. He practises {play} every weekend by {place}.",
    "Looking at {stat}, {team} should bench their {player} before the playoffs.",
    "Tickets near {place} for {team} are too expensive, but watching {play} live is worth it.",
    "The umpire-or-referee debate aside, that {player} from {team} deserved credit for {play}.",
]

HELD_OUT_PATTERNS = [
    "Anybody catch the highlights? {team} got {play} from their {player}, unbelievable.",
    "Hot take: {stat} says the {player} is overrated and {team} know it.",
    "Growing up I idolised a {player} on {team}; nothing beat {play} by {place}.",
    "Rumour mill says {team} are shopping their {player} before the deadline.",
    "Coaching youth sport this year; today we drilled {play} near {place} with my little {player}.",
]


def _posts(terms: dict, patterns: list[str], n: int, rng: random.Random) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        sport = "baseball" if i % 2 == 0 else "hockey"
        words = {k: rng.choice(v) for k, v in terms[sport].items()}
        text = rng.choice(patterns).format(**words)
        rows.append({"prompt": text[0].upper() + text[1:] + SEPARATOR, "completion": LABELS[sport]})
    rng.shuffle(rows)
    return rows


def training_posts(n: int = 100, seed: int = 1) -> list[dict[str, str]]:
    return _posts(TRAIN_TERMS, TRAIN_PATTERNS, n, random.Random(seed))


def held_out_posts(n: int = 40, seed: int = 2) -> list[dict[str, str]]:
    return _posts(HELD_OUT_TERMS, HELD_OUT_PATTERNS, n, random.Random(seed))

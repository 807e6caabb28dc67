"""A quick check that a pretrained multilingual encoder really aligns languages.

Ten everyday sentences, translated by hand into German, Spanish and French, are embedded by mean
pooling; each non-English sentence must retrieve its English translation among the ten. A model
with random or mis-converted weights scores about 1 in 10; a working multilingual encoder gets
(almost) all of them.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

from lightning_xfer.errors import UserError

PARALLEL = {
    "en": [
        "The train to the airport leaves every twenty minutes.",
        "My grandmother grows tomatoes in her garden.",
        "Please close the window, it is cold outside.",
        "The children are playing football in the park.",
        "I forgot my umbrella at the office yesterday.",
        "This book was written more than a hundred years ago.",
        "We are going to the mountains for the weekend.",
        "The doctor said I should drink more water.",
        "How much does a ticket to the concert cost?",
        "The museum is closed on Mondays.",
    ],
    "de": [
        "Der Zug zum Flughafen fährt alle zwanzig Minuten.",
        "Meine Großmutter baut in ihrem Garten Tomaten an.",
        "Bitte schließ das Fenster, draußen ist es kalt.",
        "Die Kinder spielen im Park Fußball.",
        "Ich habe gestern meinen Regenschirm im Büro vergessen.",
        "Dieses Buch wurde vor mehr als hundert Jahren geschrieben.",
        "Wir fahren am Wochenende in die Berge.",
        "Der Arzt sagte, ich solle mehr Wasser trinken.",
        "Wie viel kostet eine Karte für das Konzert?",
        "Das Museum ist montags geschlossen.",
    ],
    "es": [
        "El tren al aeropuerto sale cada veinte minutos.",
        "Mi abuela cultiva tomates en su jardín.",
        "Por favor, cierra la ventana, hace frío afuera.",
        "Los niños están jugando al fútbol en el parque.",
        "Ayer olvidé mi paraguas en la oficina.",
        "Este libro fue escrito hace más de cien años.",
        "Vamos a la montaña el fin de semana.",
        "El médico dijo que debería beber más agua.",
        "¿Cuánto cuesta una entrada para el concierto?",
        "El museo está cerrado los lunes.",
    ],
    "fr": [
        "Le train pour l'aéroport part toutes les vingt minutes.",
        "Ma grand-mère cultive des tomates dans son jardin.",
        "Ferme la fenêtre, s'il te plaît, il fait froid dehors.",
        "Les enfants jouent au football dans le parc.",
        "J'ai oublié mon parapluie au bureau hier.",
        "Ce livre a été écrit il y a plus de cent ans.",
        "Nous allons à la montagne pour le week-end.",
        "Le médecin a dit que je devrais boire plus d'eau.",
        "Combien coûte un billet pour le concert ?",
        "Le musée est fermé le lundi.",
    ],
}


@torch.no_grad()
def mean_pooled(directory: str | Path, texts: list[str], prefix: str = "query: ") -> torch.Tensor:
    """L2-normalised mean-pooled last-layer embeddings."""
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModel.from_pretrained(directory, add_pooling_layer=False).eval()
    batch = tokenizer([prefix + t for t in texts], padding=True, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def retrieval_sanity_check(directory: str | Path, minimum: float = 0.8) -> dict[str, float]:
    """Top-1 retrieval of the English translation per language; raises if any is below `minimum`."""
    english = mean_pooled(directory, PARALLEL["en"])
    scores = {}
    for language, sentences in PARALLEL.items():
        if language == "en":
            continue
        found = (mean_pooled(directory, sentences) @ english.T).argmax(-1)
        scores[language] = (found == torch.arange(len(sentences))).float().mean().item()
    if min(scores.values()) < minimum:
        raise UserError(f"{directory}: retrieval sanity check failed (top-1 {scores}, need >= {minimum})")
    return scores

